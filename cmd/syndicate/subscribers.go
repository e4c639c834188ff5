package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
	"github.com/syndicate-daemon/syndicate/syndicate/web"
)

// subscriberPage is how many subscribers are read at a time.
const subscriberPage = 1000

func cmdSubscribers(ctx context.Context, c *cli) error {
	if len(c.args) == 0 {
		return usagef("subscribers: name an action: add, remove, list, import or export")
	}
	action, args := c.args[0], c.args[1:]
	switch action {
	case "add", "remove":
		if len(args) == 0 {
			return usagef("subscribers %s: name at least one address", action)
		}
	case "import":
		if len(args) != 1 {
			return usagef("subscribers import: name one CSV file, or - for standard input")
		}
	case "list", "export":
		if len(args) != 0 {
			return usagef("subscribers %s: unexpected argument %q", action, args[0])
		}
	default:
		return usagef("subscribers: unknown action %q: add, remove, list, import or export", action)
	}
	if c.opts.list == "" {
		return usagef("subscribers: --list is required")
	}
	// Only mailing confirmations needs the SMTP password (and the right
	// link secret): other actions run without the daemon's secrets.
	mails := action == "add" && !c.opts.confirmed
	cfg, err := c.loadConfig(!mails)
	if err != nil {
		return err
	}
	lists := subscriberLists(cfg)
	if _, ok := lists[c.opts.list]; !ok {
		if len(lists) == 0 {
			return usagef("subscribers: --list %q: the configuration has no email channel", c.opts.list)
		}
		return usagef("subscribers: --list %q: no email channel has list: %q (lists: %s)", c.opts.list, c.opts.list, strings.Join(sortedKeys(lists), ", "))
	}
	var addresses []string
	if action == "add" || action == "remove" {
		if addresses, err = c.parseAddresses(args); err != nil {
			return err
		}
	}

	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	subs := st
	switch action {
	case "add":
		return c.addSubscribers(ctx, cfg, st, subs, addresses)
	case "remove":
		return c.removeSubscribers(ctx, subs, addresses)
	case "list":
		return c.listSubscribers(ctx, subs)
	case "import":
		return c.importSubscribers(ctx, subs, args[0])
	default:
		return c.exportSubscribers(ctx, subs)
	}
}

// parseAddresses checks the addresses given on the command line, all of
// them before anything is done.
func (c *cli) parseAddresses(args []string) ([]string, error) {
	var out []string
	bad := 0
	for _, a := range args {
		if _, _, err := subscribe.ParseAddress(a); err != nil {
			fmt.Fprintf(c.env.Stderr, "syndicate subscribers: %q: %v\n", a, err)
			bad++
			continue
		}
		out = append(out, a)
	}
	if bad > 0 {
		return nil, usagef("subscribers: %d invalid addresses; nothing was changed", bad)
	}
	return out, nil
}

func (c *cli) addSubscribers(ctx context.Context, cfg *config.Config, st syndicate.Store, subs syndicate.SubscriberStore, addresses []string) error {
	var sender subscribe.ConfirmationSender
	if !c.opts.confirmed {
		var err error
		if sender, err = c.confirmationSender(cfg); err != nil {
			return err
		}
	}
	secret, err := subscribe.LinkSecret(ctx, cfg.Secret.Value(), st, nil)
	if err != nil {
		return err
	}
	svc, err := subscribe.New(subscribe.Options{
		Store: subs, Sender: sender, PublicURL: cfg.PublicURL, Secret: secret,
		Lists: sortedKeys(subscriberLists(cfg)), Now: c.env.Now, Log: c.log,
	})
	if err != nil {
		return err
	}
	failed := 0
	for _, a := range addresses {
		r, err := svc.Add(ctx, c.opts.list, a, "", c.opts.confirmed)
		if err != nil {
			failed++
			fmt.Fprintf(c.env.Stderr, "%s: %v\n", a, err)
			if r.Subscriber.ID == 0 {
				continue // nothing was stored
			}
		}
		s := r.Subscriber
		var what string
		switch {
		case err != nil:
			what = "on the list, " + string(s.State) + "; the confirmation link was not sent"
		case r.Created && r.Mailed:
			what = "added, pending; confirmation link sent"
		case r.Created:
			what = "added, " + string(s.State)
		case r.Mailed:
			what = "already on the list, pending; confirmation link sent again"
		case r.Confirmed:
			what = "already on the list, pending; now confirmed"
		case s.State == syndicate.SubscriberUnsubscribed:
			what = "already on the list, unsubscribed: left so; only its owner can subscribe it again"
		default:
			what = "already on the list, " + string(s.State) + "; unchanged"
		}
		fmt.Fprintf(c.env.Stdout, "%s: %s\n", s.Email, what)
	}
	if failed > 0 {
		return failedError{"add failed"}
	}
	return nil
}

func (c *cli) removeSubscribers(ctx context.Context, subs syndicate.SubscriberStore, addresses []string) error {
	failed := 0
	for _, a := range addresses {
		email, _, _ := subscribe.ParseAddress(a) // checked by parseAddresses
		s, err := subs.Subscriber(ctx, c.opts.list, email)
		switch {
		case errors.Is(err, syndicate.ErrNotFound):
			failed++
			fmt.Fprintf(c.env.Stderr, "%s: not on list %s\n", email, c.opts.list)
			continue
		case err != nil:
			return err
		case s.State == syndicate.SubscriberUnsubscribed:
			fmt.Fprintf(c.env.Stdout, "%s: already unsubscribed\n", s.Email)
			continue
		}
		if _, err := subs.SetSubscriberState(ctx, c.opts.list, email, syndicate.SubscriberUnsubscribed, c.env.Now()); err != nil {
			return err
		}
		fmt.Fprintf(c.env.Stdout, "%s: unsubscribed\n", s.Email)
	}
	if failed > 0 {
		return failedError{"remove: some addresses were not on the list"}
	}
	return nil
}

// eachSubscriber calls fn for every subscriber of the list, in ID order.
func eachSubscriber(ctx context.Context, subs syndicate.SubscriberStore, list string, fn func(syndicate.Subscriber) error) error {
	var after int64
	for {
		page, err := subs.Subscribers(ctx, list, "", after, subscriberPage)
		if err != nil {
			return err
		}
		for _, s := range page {
			if err := fn(s); err != nil {
				return err
			}
		}
		if len(page) < subscriberPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

func (c *cli) listSubscribers(ctx context.Context, subs syndicate.SubscriberStore) error {
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tSTATE\tSUBSCRIBED")
	count := map[syndicate.SubscriberState]int{}
	total := 0
	err := eachSubscriber(ctx, subs, c.opts.list, func(s syndicate.Subscriber) error {
		count[s.State]++
		total++
		_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Email, s.Name, s.State, s.CreatedAt.UTC().Format(time.RFC3339))
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "list %s: %d addresses: %d confirmed, %d pending, %d unsubscribed\n", c.opts.list, total,
		count[syndicate.SubscriberConfirmed], count[syndicate.SubscriberPending], count[syndicate.SubscriberUnsubscribed])
	return nil
}

// exportHeader is the header of `subscribers export`, which `import`
// reads back.
var exportHeader = []string{"email", "name", "list", "state", "subscribed_at"}

func (c *cli) exportSubscribers(ctx context.Context, subs syndicate.SubscriberStore) error {
	w := csv.NewWriter(c.env.Stdout)
	if err := w.Write(exportHeader); err != nil {
		return err
	}
	err := eachSubscriber(ctx, subs, c.opts.list, func(s syndicate.Subscriber) error {
		return w.Write([]string{s.Email, s.Name, s.List, string(s.State), s.CreatedAt.UTC().Format(time.RFC3339Nano)})
	})
	if err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// importSubscribers reads a CSV file with a header row: an email column
// (required), and optionally name, state and subscribed_at (the columns of
// `export`; others, list included, are ignored). Each row is checked on
// its own: bad rows are reported by line on standard error and skipped,
// the good ones imported; any bad row makes the exit status 1.
//
// Addresses are imported pending, or confirmed with --confirmed; a row
// whose state is unsubscribed is imported unsubscribed, so an opt-out
// carried over from elsewhere is kept. An address already on the list is
// left as it is, so re-importing changes nothing and never revives an
// unsubscribed address. No confirmation is mailed.
func (c *cli) importSubscribers(ctx context.Context, subs syndicate.SubscriberStore, name string) error {
	var in io.Reader
	if name == "-" {
		if c.env.Stdin == nil {
			return usagef("subscribers import: no standard input")
		}
		in, name = c.env.Stdin, "standard input"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("subscribers import: %w", err)
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReader(in)
	if bom, _ := br.Peek(3); string(bom) == "\uFEFF" {
		_, _ = br.Discard(3) // spreadsheets write one
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty file")
		}
		fmt.Fprintf(c.env.Stderr, "%s: %v\n", name, err)
		return failedError{"import: no header"}
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	emailCol, ok := col["email"]
	if !ok {
		fmt.Fprintf(c.env.Stderr, "%s: line 1: the header has no email column (found %q); nothing was imported\n", name, header)
		return failedError{"import: no email column"}
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}

	state := syndicate.SubscriberPending
	if c.opts.confirmed {
		state = syndicate.SubscriberConfirmed
	}
	now := c.env.Now()
	var added, kept, bad int
	report := func(line int, format string, args ...any) {
		bad++
		fmt.Fprintf(c.env.Stderr, "%s: line %d: %s\n", name, line, fmt.Sprintf(format, args...))
	}
	lastErrLine := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if pe.StartLine == lastErrLine {
				return fmt.Errorf("%s: line %d: %w", name, pe.StartLine, pe.Err) // no progress: give up
			}
			lastErrLine = pe.StartLine
			report(pe.StartLine, "%v; row skipped", pe.Err)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		if emailCol >= len(rec) {
			report(line, "no email field; row skipped")
			continue
		}
		email, parsedName, err := subscribe.ParseAddress(rec[emailCol])
		if err != nil {
			report(line, "%q: %v; row skipped", rec[emailCol], err)
			continue
		}
		fullName, err := subscribe.CleanName(field(rec, "name"))
		if err != nil {
			report(line, "%v; row skipped", err)
			continue
		}
		if fullName == "" {
			fullName = parsedName
		}
		s := syndicate.Subscriber{List: c.opts.list, Email: email, Name: fullName, State: state, CreatedAt: now}
		switch v := strings.ToLower(strings.TrimSpace(field(rec, "state"))); v {
		case "", string(syndicate.SubscriberPending), string(syndicate.SubscriberConfirmed):
		case string(syndicate.SubscriberUnsubscribed):
			s.State = syndicate.SubscriberUnsubscribed
		default:
			report(line, "state %q is not pending, confirmed or unsubscribed; row skipped", v)
			continue
		}
		if v := strings.TrimSpace(field(rec, "subscribed_at")); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				report(line, "subscribed_at %q is not an RFC 3339 time; row skipped", v)
				continue
			}
			s.CreatedAt = t
		}
		_, created, err := subs.AddSubscriber(ctx, s)
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		if created {
			added++
		} else {
			kept++
		}
	}
	fmt.Fprintf(c.env.Stdout, "list %s: %d addresses added (%s), %d already on the list and left as they were, %d bad rows\n",
		c.opts.list, added, state, kept, bad)
	if bad > 0 {
		return failedError{"import: bad rows"}
	}
	return nil
}

// subscriberLists maps each list of the email channels to its language,
// the language of its (first) channel's digests, so the pages about a
// list speak as its digests do.
func subscriberLists(cfg *config.Config) map[string]string {
	lists := map[string]string{}
	for i := range cfg.Channels {
		ch := &cfg.Channels[i]
		if ch.Type != config.TypeEmail || ch.Email == nil || ch.Email.List == "" {
			continue
		}
		if _, ok := lists[ch.Email.List]; !ok {
			lists[ch.Email.List] = digestLanguage(cfg, ch)
		}
	}
	return lists
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// listSenders mails each confirmation through the first email channel of
// the subscriber's list.
type listSenders map[string]subscribe.ConfirmationSender

func (l listSenders) SendConfirmation(ctx context.Context, s syndicate.Subscriber, confirmURL string) error {
	sender, ok := l[s.List]
	if !ok {
		return fmt.Errorf("no email channel sends to list %q", s.List)
	}
	return sender.SendConfirmation(ctx, s, confirmURL)
}

// confirmationSender builds the sender of confirmations for every list
// (Env.ConfirmationSender for each list's email channel).
func (c *cli) confirmationSender(cfg *config.Config) (subscribe.ConfirmationSender, error) {
	build := c.env.ConfirmationSender
	if build == nil {
		build = emailConfirmationSender
	}
	senders := listSenders{}
	for i := range cfg.Channels {
		ch := &cfg.Channels[i]
		if ch.Type != config.TypeEmail || ch.Email == nil {
			continue
		}
		if _, ok := senders[ch.Email.List]; ok {
			continue
		}
		s, err := build(cfg, ch, c.log)
		if err != nil {
			return nil, configError{fmt.Errorf("channels[%d] (%s): %w", i, ch.ID, err)}
		}
		senders[ch.Email.List] = s
	}
	return senders, nil
}

// subscriptionPages builds what the daemon needs to serve the subscription
// pages: the Service and the pages' options, for web.Options.Subscribe.
// Both are nil when no email channel is configured, and in a dry run,
// which writes nothing (not even the generated link secret) and so serves
// no form.
func (c *cli) subscriptionPages(ctx context.Context, cfg *config.Config, st syndicate.Store, dryRun bool, rehearsal *rehearsal) (*web.SubscribePages, *subscribe.Service, error) {
	lists := subscriberLists(cfg)
	if len(lists) == 0 {
		return nil, nil, nil
	}
	if dryRun && rehearsal == nil {
		c.log.Info("dry run: the subscription pages are off")
		return nil, nil, nil
	}
	subs := st
	secret, err := subscribe.LinkSecret(ctx, cfg.Secret.Value(), st, nil)
	if err != nil {
		return nil, nil, err
	}
	var sender subscribe.ConfirmationSender = rehearsal
	if rehearsal == nil {
		if sender, err = c.confirmationSender(cfg); err != nil {
			return nil, nil, err
		}
	}
	sc := cfg.Subscribe
	svc, err := subscribe.New(subscribe.Options{
		Store: subs, Sender: sender, PublicURL: cfg.PublicURL, Secret: secret, Lists: sortedKeys(lists),
		Limits: &subscribe.Limits{
			PerIP: sc.PerIP, IPWindow: sc.IPWindow.Std(),
			PerAddress: sc.PerAddress, AddressWindow: sc.AddressWindow.Std(),
		},
		Now: c.env.Now, Log: c.log,
	})
	if err != nil {
		return nil, nil, err
	}
	return &web.SubscribePages{Service: svc, Lists: lists, ClientIPHeader: sc.ClientIPHeader}, svc, nil
}
