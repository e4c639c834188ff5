package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/syndicate-daemon/syndicate/channels/email"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// cmdDigest shows the next digest of an email channel: its subject and
// text on standard output, its HTML in --html's file. With --now it sends
// it at once, if it has articles, and they then count as digested.
func cmdDigest(ctx context.Context, c *cli) error {
	if len(c.args) > 0 {
		switch verb := c.args[0]; verb {
		case "resend", "mark-sent":
			return cmdDigestDecision(ctx, c, verb, c.args[1:])
		default:
			return usagef("digest: %q is neither resend nor mark-sent", verb)
		}
	}
	if c.opts.digest != 0 {
		return usagef("--digest goes with resend or mark-sent")
	}
	if c.opts.channel == "" {
		return usagef("digest: --channel is required (the id of an email channel)")
	}
	// Showing needs no SMTP password; sending does.
	cfg, err := c.loadConfig(!c.opts.now)
	if err != nil {
		return err
	}
	if !isEmailChannel(cfg, c.opts.channel) {
		return usagef("--channel: no email channel %q in %s", c.opts.channel, c.opts.config)
	}
	store, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer store.Close()
	engine, err := c.engineFor(ctx, cfg, store, false, c.env.Stdout, nil)
	if err != nil {
		return err
	}
	target := engine.Digests[c.opts.channel]
	mailer, ok := target.Mailer.(*email.Channel)
	if !ok {
		return fmt.Errorf("channel %s: not an email channel", c.opts.channel)
	}

	articles, err := engine.NextDigest(ctx, c.opts.channel)
	if err != nil {
		return err
	}
	if len(articles) == 0 {
		if c.opts.now {
			fmt.Fprintf(c.env.Stderr, "%s: no new articles since the last digest: nothing sent\n", c.opts.channel)
			return nil
		}
		fmt.Fprintf(c.env.Stderr, "%s: no new articles since the last digest: the next digest would be empty, and an empty digest is never sent\n", c.opts.channel)
		if due, ok := nextDigestDue(ctx, store, target, c.env.Now()); ok {
			fmt.Fprintf(c.env.Stderr, "%s: the schedule next fires at %s\n", c.opts.channel, due.Format("2006-01-02 15:04 MST"))
		}
		return nil
	}
	r, err := mailer.Preview(syndicate.Digest{ChannelID: c.opts.channel, CreatedAt: c.env.Now()}, articles)
	if err != nil {
		return fmt.Errorf("channel %s: render: %w", c.opts.channel, err)
	}
	if c.opts.html != "" {
		if err := os.WriteFile(c.opts.html, []byte(r.HTML), 0o644); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
	}
	if !c.opts.now {
		fmt.Fprintf(c.env.Stdout, "Subject: %s\n\n%s", r.Subject, r.Text)
		if due, ok := nextDigestDue(ctx, store, target, c.env.Now()); ok {
			fmt.Fprintf(c.env.Stderr, "%s: %s; the schedule next fires at %s (digest --now sends it at once)\n",
				c.opts.channel, plural(len(articles), "article"), due.Format("2006-01-02 15:04 MST"))
		}
		return nil
	}

	run, made, err := engine.SendDigestNow(ctx, c.opts.channel)
	if !made && err == nil {
		fmt.Fprintf(c.env.Stderr, "%s: no new articles: nothing sent\n", c.opts.channel)
		return nil
	}
	if run.Digest.ID != 0 {
		fmt.Fprintf(c.env.Stdout, "digest %d of %s (%s): sent %d, deferred %d, failed %d, uncertain %d\n",
			run.Digest.ID, c.opts.channel, plural(len(run.Digest.Articles), "article"), run.Counts[syndicate.RecipientSent],
			run.Counts[syndicate.RecipientDeferred], run.Counts[syndicate.RecipientFailed], run.Counts[syndicate.RecipientUncertain])
		if !run.Finished && err == nil {
			fmt.Fprintf(c.env.Stdout, "digest %d: deferred recipients are tried again by the daemon (run) or the next once\n", run.Digest.ID)
		}
	}
	if err != nil {
		return err
	}
	if run.Counts[syndicate.RecipientUncertain] > 0 {
		return failedError{"digest: some messages are uncertain"}
	}
	return nil
}

// nextDigestDue is when the channel's schedule next fires, after the
// digest clock (or now, for a channel the daemon has not seen yet).
func nextDigestDue(ctx context.Context, store syndicate.Store, t syndicate.DigestTarget, now time.Time) (time.Time, bool) {
	if t.Schedule == nil {
		return time.Time{}, false
	}
	last, _, seen, err := store.DigestClock(ctx, t.ID)
	if err != nil {
		return time.Time{}, false
	}
	if !seen {
		last = now
	}
	next := t.Schedule.Next(last)
	if t.Location != nil {
		next = next.In(t.Location)
	}
	return next, !next.IsZero()
}

// printDigestReport tells what once did with the digests.
func printDigestReport(c *cli, r syndicate.Report) {
	for _, id := range slices.Sorted(maps.Keys(r.DigestErrors)) {
		fmt.Fprintf(c.env.Stderr, "digest error: %s: %v\n", id, r.DigestErrors[id])
	}
	n := r.Recipients
	if n[syndicate.RecipientSent]+n[syndicate.RecipientDeferred]+n[syndicate.RecipientFailed]+n[syndicate.RecipientUncertain] == 0 {
		return
	}
	fmt.Fprintf(c.env.Stderr, "digest messages in this run: %d sent, %d deferred (tried again later), %d refused for good, %d uncertain\n",
		n[syndicate.RecipientSent], n[syndicate.RecipientDeferred], n[syndicate.RecipientFailed], n[syndicate.RecipientUncertain])
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
