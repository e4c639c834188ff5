package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/syndicate-daemon/syndicate/channels/email"
	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

// isEmailChannel reports whether the configured channel id is an email
// digest: feeds route to it like to any channel, and the digest run, not a
// delivery worker, sends what it gets.
func isEmailChannel(cfg *config.Config, id string) bool {
	ch, ok := cfg.Channel(id)
	return ok && ch.Type == config.TypeEmail && ch.Email != nil
}

// newEmailChannel builds the email channel of ch. unsubscribe makes the
// recipients' links; nil for a channel that only mails confirmations or
// checks its server.
func newEmailChannel(cfg *config.Config, ch *config.Channel, unsubscribe func(syndicate.Subscriber) string,
	log *slog.Logger, now func() time.Time) (*email.Channel, error) {
	e := ch.Email
	ec := email.Config{
		ID:             ch.ID,
		List:           e.List,
		Language:       digestLanguage(cfg, ch),
		From:           e.From,
		Subject:        e.Subject,
		PublicURL:      cfg.PublicURL,
		UnsubscribeURL: unsubscribe,
		Host:           e.SMTP.Host,
		Port:           e.SMTP.Port,
		TLS:            e.SMTP.TLS,
		Username:       e.SMTP.Username,
		Password:       e.SMTP.Password.Value(),
		Timeout:        ch.Timeout.Std(),
		Connections:    e.SMTP.Connections,
		Rate:           float64(e.SMTP.Rate),
		Location:       cfg.Location(),
		Log:            log,
		Now:            now,
	}
	if k := e.DKIM; k != nil && k.KeyFile != "" {
		pemKey, err := readKeyFile(k.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("dkim.key_file: %w", err)
		}
		key, err := gomail.PrivKeyFromPEM(pemKey)
		if err != nil {
			return nil, fmt.Errorf("dkim.key_file: %s holds no RSA or Ed25519 private key in PEM: %w", k.KeyFile, err)
		}
		ec.DKIM = &email.DKIM{Domain: k.Domain, Selector: k.Selector, Key: key}
	}
	return email.New(ec)
}

// readKeyFile reads a private key file: a regular file of at most 64 KiB.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 64<<10 {
		return nil, fmt.Errorf("%s is larger than 64 KiB", path)
	}
	return b, nil
}

// digestLanguage is the language of a digest's own words: the channel's
// language, else its list's name when that is a language the digest
// speaks ("en", "es"), else the language of the feeds routed to it when
// they agree, else English.
func digestLanguage(cfg *config.Config, ch *config.Channel) string {
	if ch.Email.Language != "" {
		return ch.Email.Language
	}
	for _, lang := range []string{"en", "es"} {
		if l := ch.Email.List; l == lang || strings.HasPrefix(l, lang+"-") || strings.HasSuffix(l, "-"+lang) || strings.HasSuffix(l, "_"+lang) {
			return lang
		}
	}
	lang := ""
	for _, f := range cfg.Feeds {
		for _, to := range f.To {
			if to != ch.ID || f.Language == "" {
				continue
			}
			if lang != "" && lang != f.Language {
				return email.DefaultLanguage
			}
			lang = f.Language
		}
	}
	if lang == "" {
		return email.DefaultLanguage
	}
	return lang
}

// unsubscribeLinks returns what makes the recipients' unsubscribe links:
// the same signed links the subscription pages check, under public_url,
// with the configured secret or the one kept in the store.
func unsubscribeLinks(ctx context.Context, cfg *config.Config, store syndicate.Store, now func() time.Time) (func(syndicate.Subscriber) string, error) {
	secret, err := subscribe.LinkSecret(ctx, cfg.Secret.Value(), store, nil)
	if err != nil {
		return nil, err
	}
	links, err := subscribe.NewLinks(cfg.PublicURL, secret, now)
	if err != nil {
		return nil, err
	}
	return links.UnsubscribeURL, nil
}

// buildDigests builds one digest target per email channel. A dry run
// writes nothing, not even the generated link secret: its links are
// placeholders (it sends nothing anyway).
func (c *cli) buildDigests(ctx context.Context, cfg *config.Config, store syndicate.Store, dryRun bool) (map[string]syndicate.DigestTarget, error) {
	digests := map[string]syndicate.DigestTarget{}
	var unsubscribe func(syndicate.Subscriber) string
	for i := range cfg.Channels {
		ch := &cfg.Channels[i]
		if !isEmailChannel(cfg, ch.ID) {
			continue
		}
		if ch.Template != "" {
			return nil, configError{fmt.Errorf("channels[%d].template: an email channel has no template to replace; its subject is set with subject", i)}
		}
		if unsubscribe == nil {
			if dryRun {
				unsubscribe = func(s syndicate.Subscriber) string { return cfg.PublicURL + "/unsubscribe/DRY-RUN" }
			} else {
				var err error
				if unsubscribe, err = unsubscribeLinks(ctx, cfg, store, c.env.Now); err != nil {
					return nil, fmt.Errorf("unsubscribe links: %w", err)
				}
			}
		}
		mailer, err := newEmailChannel(cfg, ch, unsubscribe, c.log, c.env.Now)
		if err != nil {
			return nil, configError{fmt.Errorf("channels[%d] (%s): %w", i, ch.ID, err)}
		}
		sched, err := config.ParseSchedule(ch.Email.Schedule, cfg.Location())
		if err != nil {
			return nil, configError{fmt.Errorf("channels[%d].schedule: %w", i, err)}
		}
		digests[ch.ID] = syndicate.DigestTarget{
			ID:       ch.ID,
			List:     ch.Email.List,
			Schedule: sched,
			Location: cfg.Location(),
			Mailer:   mailer,
			Review:   ch.Review,
			Retry: syndicate.RetryPolicy{
				MaxAttempts: ch.Retry.MaxAttempts,
				MinBackoff:  ch.Retry.MinBackoff.Std(),
				MaxBackoff:  ch.Retry.MaxBackoff.Std(),
			},
		}
	}
	return digests, nil
}

// emailConfirmationSender mails the confirmations of the subscribers of
// ch's list through ch's server (the subscribers command and the form).
func emailConfirmationSender(cfg *config.Config, ch *config.Channel, log *slog.Logger) (subscribe.ConfirmationSender, error) {
	return newEmailChannel(cfg, ch, nil, log, nil)
}

// checkEmailChannels builds every email channel, and with online connects
// to its server and authenticates (check --online). It prints a line per
// channel and returns how many failed.
func (c *cli) checkEmailChannels(ctx context.Context, cfg *config.Config, online bool) (failed int, err error) {
	for i := range cfg.Channels {
		ch := &cfg.Channels[i]
		if !isEmailChannel(cfg, ch.ID) {
			continue
		}
		if ch.Template != "" {
			return 0, configError{fmt.Errorf("channels[%d].template: an email channel has no template to replace; its subject is set with subject", i)}
		}
		mailer, err := newEmailChannel(cfg, ch, nil, c.log, c.env.Now)
		if err != nil {
			return 0, configError{fmt.Errorf("channels[%d] (%s): %w", i, ch.ID, err)}
		}
		if !online {
			continue
		}
		msg, err := mailer.Check(ctx)
		if err != nil {
			failed++
			fmt.Fprintf(c.env.Stdout, "channel %s: FAIL: %v\n", ch.ID, err)
			continue
		}
		fmt.Fprintf(c.env.Stdout, "channel %s: ok, %s\n", ch.ID, msg)
	}
	return failed, nil
}
