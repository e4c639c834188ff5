package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/email"
	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// A rehearsal is a dry run whose store is thrown away at exit (the
// configured database does not exist yet, as with the demo): the whole
// pipeline runs and records into that store, so the pages have something
// to show, but every channel prints what it would send instead of sending
// it, and the email digests are printed once the first polls are in.
type rehearsal struct {
	mu      sync.Mutex // one rendering printed at a time
	out     io.Writer
	log     *slog.Logger
	mailers map[string]*email.Channel // the email channels, for their previews
}

// rehearse turns engine's dry run into a rehearsal: it records into its
// throwaway store, its channels print instead of sending, and once the
// first polls are in it prints the digests.
func (c *cli) rehearse(engine *syndicate.Engine, cfg *config.Config) *rehearsal {
	r := &rehearsal{out: c.env.Stdout, log: c.log, mailers: map[string]*email.Channel{}}
	kinds := map[string]string{}
	for _, ch := range cfg.Channels {
		kinds[ch.ID] = channelKind(ch.Type)
	}
	for id, t := range engine.Targets {
		rc := &rehearsalChannel{id: id, kind: kinds[id], inner: t.Channel, checker: t.TextChecker, r: r}
		// Editing and resolving would reach the network.
		t.Channel, t.Capabilities = rc, syndicate.Capabilities{}
		if rc.checker != nil {
			t.TextChecker = rc
		}
		engine.Targets[id] = t
	}
	for id, t := range engine.Digests {
		if m, ok := t.Mailer.(*email.Channel); ok {
			r.mailers[id] = m
		}
		t.Mailer = rehearsalMailer{}
		engine.Digests[id] = t
	}
	engine.AfterFirstPolls = func(ctx context.Context) { r.showDigests(ctx, engine, c.env.Now()) }
	return r
}

// channelKind names what a channel type sends, for the printouts.
func channelKind(typ string) string {
	if t, ok := postTypeOf(typ); ok {
		return t.kind
	}
	if typ == config.TypeEmail {
		return "email digest entry"
	}
	return typ
}

// SendConfirmation prints the confirmation mail's link, so whoever tries
// the subscription form can follow it.
func (r *rehearsal) SendConfirmation(_ context.Context, s syndicate.Subscriber, confirmURL string) error {
	r.printf("── would mail %s a confirmation for the list %q; its link:\n   %s\n\n", s.Email, s.List, confirmURL)
	return nil
}

// isRehearsal reports whether a dry run over store may record: the store
// is removed when the command ends, so nothing outlives the run.
func isRehearsal(dryRun bool, store syndicate.Store) bool {
	_, throwaway := store.(tempStore)
	return dryRun && throwaway
}

func (r *rehearsal) printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, format, args...)
}

// rehearsalChannel prints the post its channel would send. It hides the
// channel's editing and resolving: those would reach the network.
type rehearsalChannel struct {
	id, kind string
	inner    syndicate.Channel
	checker  syndicate.TextChecker // the channel's own; nil when it takes no rewritten text
	r        *rehearsal

	mu sync.Mutex
	n  int
}

func (c *rehearsalChannel) Render(p syndicate.Post) (syndicate.Rendering, error) {
	return c.inner.Render(p)
}

// CheckText lets an editor rewrite a post in the rehearsal too: the text
// is checked by the channel, as it would be for real.
func (c *rehearsalChannel) CheckText(p syndicate.Post) (syndicate.Rendering, error) {
	if c.checker == nil {
		return syndicate.Rendering{}, fmt.Errorf("%s takes no rewritten text", c.id)
	}
	return c.checker.CheckText(p)
}

func (c *rehearsalChannel) Send(_ context.Context, p syndicate.Post) (syndicate.Receipt, *syndicate.SendError) {
	r, err := c.Render(p)
	if p.Override != "" {
		r, err = c.CheckText(p)
	}
	if err != nil {
		return syndicate.Receipt{}, &syndicate.SendError{Kind: syndicate.Permanent, Err: fmt.Errorf("%s: rendering %q: %w", c.id, p.Article.Title, err)}
	}
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	c.r.printf("%s\n", renderingBlock(c.id, c.kind, p.Article, r))
	return syndicate.Receipt{RemoteID: fmt.Sprintf("dry-run-%d", n)}, nil
}

// renderingBlock is one post as the dry run and preview print it: a rule
// naming the channel, what it is and its counted length, then the text.
func renderingBlock(channelID, kind string, a syndicate.Article, r syndicate.Rendering) string {
	var b strings.Builder
	fmt.Fprintf(&b, "── %s · %s · %s\n", channelID, kind, a.Title)
	if r.Limit > 0 {
		fmt.Fprintf(&b, "   %d of %d characters (%s)", r.Length, r.Limit, r.Format)
	} else {
		fmt.Fprintf(&b, "   %d characters (%s)", r.Length, r.Format)
	}
	if r.Image != "" {
		fmt.Fprintf(&b, " · image %s", r.Image)
	}
	fmt.Fprintf(&b, "\n\n%s\n", strings.TrimRight(r.Text, "\n"))
	return b.String()
}

// showDigests prints, for every email channel, the digest it would send
// now, and records its articles as digested (as `digest --now` would), so
// the rehearsal's ledger shows where every article went.
func (r *rehearsal) showDigests(ctx context.Context, engine *syndicate.Engine, now time.Time) {
	r.awaitPosts(ctx, engine)
	for _, id := range slices.Sorted(maps.Keys(r.mailers)) {
		articles, err := engine.NextDigest(ctx, id)
		if err != nil {
			r.log.Error("dry run: next digest", "channel", id, slog.Any("error", err))
			continue
		}
		if len(articles) == 0 {
			r.printf("── %s · email digest · no new articles: no digest would be sent\n\n", id)
			continue
		}
		t := engine.Digests[id]
		rendered, err := r.mailers[id].Preview(syndicate.Digest{ChannelID: id, CreatedAt: now}, articles)
		if err != nil {
			r.log.Error("dry run: render digest", "channel", id, slog.Any("error", err))
			continue
		}
		r.printf("── %s · email digest to the list %q · %s\n   Subject: %s\n\n%s\n\n", id, t.List,
			plural(len(articles), "article"), rendered.Subject, strings.TrimRight(rendered.Text, "\n"))
		if _, _, err := engine.SendDigestNow(ctx, id); err != nil {
			r.log.Error("dry run: record digest", "channel", id, slog.Any("error", err))
		}
	}
}

// awaitPosts waits, a few seconds at most, until the channels have printed
// every post due, so the digests come after them in the printout.
func (r *rehearsal) awaitPosts(ctx context.Context, engine *syndicate.Engine) {
	const patience, tick = 5 * time.Second, 20 * time.Millisecond
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); {
		counts, err := engine.Store.CountDeliveries(ctx)
		if err != nil {
			return
		}
		pending := 0
		for id := range engine.Targets {
			pending += counts[id][syndicate.StatePending] + counts[id][syndicate.StateSending]
		}
		if pending == 0 || channels.Sleep(ctx, tick) != nil {
			return
		}
	}
}

// rehearsalMailer prints nothing itself (showDigests prints the digest)
// and mails nobody: each subscriber's message counts as sent.
type rehearsalMailer struct{}

func (rehearsalMailer) Prepare(context.Context, syndicate.Digest, []syndicate.Article) (syndicate.Mailing, error) {
	return rehearsalMailing{}, nil
}

type rehearsalMailing struct{}

func (rehearsalMailing) Send(_ context.Context, batch []syndicate.Subscriber, log syndicate.MessageLog) ([]syndicate.MailResult, error) {
	res := make([]syndicate.MailResult, len(batch))
	for i, s := range batch {
		res[i].State = syndicate.RecipientSent
		if err := log.Begin(s); err != nil {
			res[i] = syndicate.MailResult{State: syndicate.RecipientDeferred, Err: err}
		}
		log.Ended(s, res[i])
	}
	return res, nil
}

func (rehearsalMailing) Close() error { return nil }

// demoNeedsDryRun refuses to run the demonstration for real: its channels
// are placeholders.
func (c *cli) demoNeedsDryRun(cfg *config.Config) error {
	if cfg.Demo && !c.opts.dryRun {
		return usagef("%s is a demonstration (demo: true): run it with --dry-run", c.opts.config)
	}
	return nil
}

// banner tells the newcomer where to look while the rehearsal runs. The
// demonstration's admin_token is printed; no other configuration's is.
func (r *rehearsal) banner(cfg *config.Config, addr string, subscribePages bool) {
	base := "http://" + addr
	var b strings.Builder
	fmt.Fprintf(&b, "── dry run: nothing is sent; the daemon keeps running (Ctrl-C stops it)\n")
	if subscribePages {
		for _, ch := range cfg.Channels {
			if ch.Type == config.TypeEmail && ch.Email != nil {
				fmt.Fprintf(&b, "   subscribe to the %q list: %s/subscribe?list=%s\n", ch.Email.List, base, ch.Email.List)
			}
		}
	}
	fmt.Fprintf(&b, "   health: %s/healthz · readiness: %s/readyz · metrics: %s/metrics\n", base, base, base)
	if cfg.AdminToken.Value() != "" {
		fmt.Fprintf(&b, "   the editor's dashboard: %s/ (sign in with the admin token)\n", base)
	}
	if cfg.Demo && cfg.AdminToken.Value() != "" {
		fmt.Fprintf(&b, "   the demonstration's admin token (dashboard, ping hook): %s\n", cfg.AdminToken.Value())
	}
	r.printf("%s\n", b.String())
}

// previewRenderer renders a post as one channel would send it.
type previewRenderer struct {
	kind   string
	render func(syndicate.Post) (syndicate.Rendering, error)
}

// previewRenderers returns a renderer for every configured channel, of
// every type: a post for Mastodon and Telegram, the digest entry for email.
func (c *cli) previewRenderers(cfg *config.Config, targets map[string]syndicate.Target) (map[string]previewRenderer, error) {
	renderers := map[string]previewRenderer{}
	for i := range cfg.Channels {
		ch := &cfg.Channels[i]
		switch {
		case isEmailChannel(cfg, ch.ID):
			mailer, err := newEmailChannel(cfg, ch, nil, c.log, c.env.Now)
			if err != nil {
				return nil, configError{fmt.Errorf("channels[%d] (%s): %w", i, ch.ID, err)}
			}
			renderers[ch.ID] = previewRenderer{kind: channelKind(ch.Type), render: func(p syndicate.Post) (syndicate.Rendering, error) {
				return mailer.RenderEntry(p.Article)
			}}
		default:
			if t, ok := targets[ch.ID]; ok {
				renderers[ch.ID] = previewRenderer{kind: channelKind(ch.Type), render: t.Channel.Render}
			}
		}
	}
	return renderers, nil
}
