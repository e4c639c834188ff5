package email_test

import (
	"slices"
	"testing"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// A server that offers PIPELINING gets MAIL FROM, RCPT TO and DATA in one
// go; one that does not, one command at a time. Either way every message
// arrives whole, once.
func TestPipeliningOnlyWhenOffered(t *testing.T) {
	for _, offered := range []bool{true, false} {
		f := newFakeSMTP(t)
		f.noPipelining = !offered
		f.serve()
		cfg := config("127.0.0.1", f.port())
		cfg.Connections = 2
		subs := subscribers(20)
		res := send(t, newChannel(t, cfg), subs)
		if slices.ContainsFunc(res, func(r syndicate.MailResult) bool { return r.State != syndicate.RecipientSent }) {
			t.Fatalf("offered %v: states %v", offered, states(res))
		}
		_, _, msgs := f.snapshot()
		got := map[string]int{}
		for _, m := range msgs {
			got[m.rcpt]++
			if _, text, _ := parts(t, m.data); text == "" {
				t.Errorf("offered %v: a message to %s without its text", offered, m.rcpt)
			}
		}
		for _, s := range subs {
			if got[s.Email] != 1 {
				t.Errorf("offered %v: %s got %d messages", offered, s.Email, got[s.Email])
			}
		}
		f.mu.Lock()
		pipelined := f.pipelined
		f.mu.Unlock()
		if want := map[bool]int{true: len(subs), false: 0}[offered]; pipelined != want {
			t.Errorf("offered %v: %d transactions pipelined, want %d", offered, pipelined, want)
		}
	}
}
