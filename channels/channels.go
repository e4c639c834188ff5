// Package channels holds what every channel shares: classifying errors into
// retryable, permanent and uncertain; tracking whether a request left;
// cutting text at a word by grapheme clusters; making hashtags of an
// article's categories; downloading its featured image; and keeping secrets
// out of error texts. Each platform lives in its own subpackage.
package channels

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// StatusError classifies an HTTP answer that was not a success:
// 429 and 5xx are retryable (after retryAfter when the platform said so),
// every other status is permanent.
func StatusError(status int, retryAfter time.Time, err error) *syndicate.SendError {
	kind := syndicate.Permanent
	if status == http.StatusTooManyRequests || status >= 500 {
		kind = syndicate.Retryable
	}
	return &syndicate.SendError{Kind: kind, RetryAfter: retryAfter, Err: err}
}

// TransportError classifies an error where no answer came back. Before the
// request was written it is retryable; after, the post may be on the
// platform, so it is uncertain unless the platform de-duplicates for us.
func TransportError(err error, requestWritten, idempotent bool) *syndicate.SendError {
	if requestWritten && !idempotent {
		return &syndicate.SendError{Kind: syndicate.Uncertain, Err: fmt.Errorf("no answer after the request was sent: %w", err)}
	}
	return &syndicate.SendError{Kind: syndicate.Retryable, Err: err}
}

// BeforeSend classifies an error met before the post's own request was
// made (reading the instance's limits, uploading its image): unless it
// already says what it is, it is retryable, as nothing was posted.
func BeforeSend(err error) *syndicate.SendError {
	var se *syndicate.SendError
	if errors.As(err, &se) {
		return se
	}
	return &syndicate.SendError{Kind: syndicate.Retryable, Err: err}
}

// Permanent wraps err as a permanent send error.
func Permanent(err error) *syndicate.SendError {
	return &syndicate.SendError{Kind: syndicate.Permanent, Err: err}
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// It returns the zero time when the header is absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return now.Add(time.Duration(secs) * time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return t
	}
	return time.Time{}
}

// WriteTracker records whether a request was written to the wire.
type WriteTracker struct{ written atomic.Bool }

// Track returns a context whose HTTP requests report to the tracker.
func (w *WriteTracker) Track(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				w.written.Store(true)
			}
		},
	})
}

// Written reports whether any tracked request was fully written.
func (w *WriteTracker) Written() bool { return w.written.Load() }

// Sleep waits d, or until ctx ends, and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IsContextError reports whether err comes from a cancelled or expired context.
func IsContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
