package syndicate

import (
	"context"
	"time"
)

// PollFiring exposes pollFiring to the tests of package syndicate_test.
func (e *Engine) PollFiring(ctx context.Context, feedID string, since time.Time) (PollResult, error) {
	return e.pollFiring(ctx, feedID, since)
}
