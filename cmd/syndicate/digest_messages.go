package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// The editor's way out for the messages of a digest: list them by state
// (status --digest N [--recipients STATE,…]), send again the uncertain or
// failed ones (digest resend), or record them sent (digest mark-sent).

// messageJSON is one message of a digest in `status --json --digest N`.
type messageJSON struct {
	Email     string    `json:"email"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// parseRecipientStates reads a comma-separated list of message states.
func parseRecipientStates(list string) ([]syndicate.RecipientState, error) {
	var states []syndicate.RecipientState
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(syndicate.RecipientStates, syndicate.RecipientState(s)) {
			return nil, fmt.Errorf("unknown message state %q (one of %v)", s, syndicate.RecipientStates)
		}
		states = append(states, syndicate.RecipientState(s))
	}
	return states, nil
}

// digestOf finds digest id in the store and checks it belongs to an email
// channel of the configuration (to --channel, when given).
func (c *cli) digestOf(ctx context.Context, cfg *config.Config, ds syndicate.DigestStore, id int64) (syndicate.Digest, error) {
	if id <= 0 {
		return syndicate.Digest{}, usagef("--digest: name a digest id (see `syndicate status`)")
	}
	d, err := ds.Digest(ctx, id)
	if errors.Is(err, syndicate.ErrNotFound) {
		return d, usagef("--digest: no digest %d", id)
	}
	if err != nil {
		return d, err
	}
	if c.opts.channel != "" && d.ChannelID != c.opts.channel {
		return d, usagef("--digest: digest %d is of channel %s, not %s", id, d.ChannelID, c.opts.channel)
	}
	if !isEmailChannel(cfg, d.ChannelID) {
		return d, usagef("--digest: digest %d is of channel %s, which %s does not configure as an email channel", id, d.ChannelID, c.opts.config)
	}
	return d, nil
}

// digestMessages is the messages key of status for --digest.
func (c *cli) digestMessages(ctx context.Context, cfg *config.Config, store syndicate.Store) ([]messageJSON, error) {
	ds := store
	states, err := parseRecipientStates(c.opts.recipients)
	if err != nil {
		return nil, usagef("--recipients: %v", err)
	}
	d, err := c.digestOf(ctx, cfg, ds, c.opts.digest)
	if err != nil {
		return nil, err
	}
	msgs, err := ds.DigestMessages(ctx, d.ID, states)
	if err != nil {
		return nil, err
	}
	out := []messageJSON{}
	for _, m := range msgs {
		out = append(out, messageJSON{Email: m.Email, State: string(m.State), Attempts: m.Attempts, LastError: m.LastError, UpdatedAt: m.UpdatedAt})
	}
	return out, nil
}

func printMessages(c *cli, digest int64, msgs []messageJSON) error {
	w := tabwriter.NewWriter(c.env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "\nMESSAGES OF DIGEST %d\nADDRESS\tSTATE\tATTEMPTS\tLAST ERROR\n", digest)
	for _, m := range msgs {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", m.Email, m.State, m.Attempts, m.LastError)
	}
	return w.Flush()
}

// cmdDigestDecision is `digest resend|mark-sent --digest N [--state S,…]
// [ADDRESS…]`: the messages of digest N in those states (uncertain by
// default), of those addresses when given.
func cmdDigestDecision(ctx context.Context, c *cli, verb string, addresses []string) error {
	from, err := parseRecipientStates(c.opts.states)
	if err != nil {
		return usagef("--state: %v", err)
	}
	if from, err = decisionStates(verb, from); err != nil {
		return usagef("--state: %v", err)
	}
	cfg, err := c.loadConfig(true)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer store.Close()
	ds := store
	d, err := c.digestOf(ctx, cfg, ds, c.opts.digest)
	if err != nil {
		return err
	}
	dec, err := decideMessages(ctx, ds, d.ID, verb, from, addresses)
	for _, a := range dec.missing {
		fmt.Fprintf(c.env.Stderr, "%s: no %s message in digest %d\n", a, joinRecipientStates(from), d.ID)
	}
	if err != nil {
		return err
	}
	for _, email := range dec.changed {
		fmt.Fprintf(c.env.Stdout, "%s: %s\n", email, dec.to)
	}
	if dec.to == syndicate.RecipientDeferred && len(dec.changed) > 0 {
		fmt.Fprintf(c.env.Stderr, "digest %d: %d messages will be mailed again by the daemon (run) or the next once; "+
			"an uncertain one may then arrive twice\n", d.ID, len(dec.changed))
	}
	if len(dec.missing) > 0 {
		return failedError{"some addresses had no such message"}
	}
	return nil
}

// decisionStates checks the states an editor's decision on digest
// messages takes them from (uncertain when none): uncertain or failed,
// and for mark-sent deferred too.
func decisionStates(verb string, from []syndicate.RecipientState) ([]syndicate.RecipientState, error) {
	if len(from) == 0 {
		return []syndicate.RecipientState{syndicate.RecipientUncertain}, nil
	}
	for _, st := range from {
		if st != syndicate.RecipientUncertain && st != syndicate.RecipientFailed && !(verb == "mark-sent" && st == syndicate.RecipientDeferred) {
			return nil, fmt.Errorf("%s messages are not for an editor to %s (uncertain or failed ones are)", st, verb)
		}
	}
	return from, nil
}

// messageDecision is what an editor's decision did to a digest's
// messages.
type messageDecision struct {
	to      syndicate.RecipientState
	changed []string // the addresses whose message moved to to, in subscriber order
	missing []string // the addresses asked for that had no such message, sorted
}

// decideMessages is `digest resend` (verb "resend") or `digest
// mark-sent` on the messages of the digest in the states from (as
// decisionStates returns them), of the addresses when given.
func decideMessages(ctx context.Context, ds syndicate.DigestStore, digestID int64, verb string, from []syndicate.RecipientState,
	addresses []string) (messageDecision, error) {
	dec := messageDecision{to: syndicate.RecipientDeferred}
	note := "sent again by an editor"
	if verb == "mark-sent" {
		dec.to, note = syndicate.RecipientSent, "recorded as sent by an editor"
	}
	msgs, err := ds.DigestMessages(ctx, digestID, from)
	if err != nil {
		return dec, err
	}
	wanted := map[string]bool{}
	for _, a := range addresses {
		wanted[strings.ToLower(strings.TrimSpace(a))] = true
	}
	var ids []int64
	byID := map[int64]string{}
	missing := maps.Clone(wanted)
	for _, m := range msgs {
		if len(wanted) == 0 || wanted[strings.ToLower(m.Email)] {
			ids, byID[m.SubscriberID] = append(ids, m.SubscriberID), m.Email
			delete(missing, strings.ToLower(m.Email))
		}
	}
	dec.missing = slices.Sorted(maps.Keys(missing))
	changed, err := ds.SetRecipients(ctx, digestID, ids, from, dec.to, note)
	if err != nil {
		return dec, err
	}
	for _, id := range changed {
		dec.changed = append(dec.changed, byID[id])
	}
	return dec, nil
}

func joinRecipientStates(states []syndicate.RecipientState) string {
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = string(s)
	}
	return strings.Join(names, " or ")
}
