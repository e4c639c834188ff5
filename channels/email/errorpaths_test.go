package email_test

import (
	"context"
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/channels/email"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// TestUnsendableDigestsAreRefused: the error paths that keep a digest from
// going out as it should not.
func TestUnsendableDigestsAreRefused(t *testing.T) {
	f := newFakeSMTP(t)
	f.serve()

	// A channel without unsubscribe links may mail confirmations, never a
	// digest.
	cfg := config("127.0.0.1", f.port())
	cfg.UnsubscribeURL = nil
	if _, err := newChannel(t, cfg).Prepare(context.Background(), digest, articles()); err == nil ||
		!strings.Contains(err.Error(), "no unsubscribe links") {
		t.Errorf("Prepare without unsubscribe links: err = %v", err)
	}

	// A subject template that gives nothing is refused at New.
	cfg = config("127.0.0.1", f.port())
	cfg.Subject = "{{if false}}x{{end}}  "
	if _, err := email.New(cfg); err == nil || !strings.Contains(err.Error(), "empty subject") {
		t.Errorf("New with an empty subject: err = %v", err)
	}

	// An address that would inject into the envelope fails alone, and
	// never reaches the server; the others of the batch go out.
	subs := subscribers(2)
	subs = append(subs, syndicate.Subscriber{ID: 9, List: "en", Email: "x@example.net>\r\nRCPT TO:<y@example.net", State: syndicate.SubscriberConfirmed})
	res := send(t, newChannel(t, config("127.0.0.1", f.port())), subs)
	if got := states(res); got[0] != syndicate.RecipientSent || got[1] != syndicate.RecipientSent || got[2] != syndicate.RecipientFailed {
		t.Errorf("states = %v, want sent, sent, failed", got)
	}
	if res[2].Err == nil || !strings.Contains(res[2].Err.Error(), "invalid address") {
		t.Errorf("error of the bad address = %v", res[2].Err)
	}
	if _, _, msgs := f.snapshot(); len(msgs) != 2 {
		t.Errorf("%d messages reached the server, want 2", len(msgs))
	}
	if n := f.count("RCPT"); n != 2 {
		t.Errorf("%d RCPT commands, want 2", n)
	}
}
