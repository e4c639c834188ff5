package web

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Desk is what the dashboard asks of the daemon: views of the feeds,
// channels, articles and subscribers, and the editor's actions. The
// command wires it over the engine, the store and the configuration.
//
// Errors wrapping ErrInvalid are the editor's mistakes (a text the platform
// would refuse, a filter naming no state), shown as they are; ErrNotFound
// is a delivery, article or address that does not exist.
type Desk interface {
	Overview(ctx context.Context) (Overview, error)
	Articles(ctx context.Context, q ArticleQuery) (ArticlePage, error)
	Article(ctx context.Context, id int64) (ArticleDetail, error)
	// Delivery returns one delivery and its channel, for checking which
	// actions apply before one is taken.
	Delivery(ctx context.Context, id int64) (DeliveryInfo, error)
	// Act applies the action to the delivery and returns it as it then is.
	// text is the editor's rewrite for Approve (nil: the channel's own).
	Act(ctx context.Context, deliveryID int64, a Action, text *string) (syndicate.Delivery, error)
	// CheckText renders the delivery with text as the platform would take
	// it, or returns why the platform would refuse it (ErrInvalid).
	CheckText(ctx context.Context, deliveryID int64, text string) (syndicate.Rendering, error)
	SetPaused(ctx context.Context, channelID string, paused bool) error

	Subscribers(ctx context.Context, q SubscriberQuery) (SubscriberPage, error)
	// RemoveSubscriber unsubscribes the address, as `subscribers remove`.
	RemoveSubscriber(ctx context.Context, list, email string) (syndicate.Subscriber, error)
	// ExportSubscribers writes the list as `subscribers export` does.
	ExportSubscribers(ctx context.Context, list string, w io.Writer) error
	// ImportSubscribers reads a CSV file with the rules of `subscribers
	// import` (an unsubscribed address is never revived); confirmed is its
	// --confirmed. An error wrapping ErrInvalid means nothing was imported.
	ImportSubscribers(ctx context.Context, list string, csv io.Reader, confirmed bool) (ImportReport, error)

	// Status returns the document of `status --json`, narrowed as its
	// flags narrow it.
	Status(ctx context.Context, q StatusQuery) (any, error)

	// DigestMessages returns a digest with its messages counted by state,
	// and at most limit of its messages in the states (every state when
	// none), after the first offset of them, in subscriber order, as
	// `status --digest N --recipients STATE,…` lists them; ErrNotFound
	// for a digest that does not exist or whose email channel is not
	// configured.
	DigestMessages(ctx context.Context, id int64, states []syndicate.RecipientState, limit, offset int) (DigestPage, error)
	// DigestAct is `digest resend` or `digest mark-sent` on the digest's
	// messages in the states (uncertain when none), only those of the
	// addresses when any are given. A state the action does not take is
	// ErrInvalid. Messages sent again reach a running daemon at once.
	DigestAct(ctx context.Context, id int64, a DigestAction, states []syndicate.RecipientState, addresses []string) (DigestActReport, error)
}

// ErrInvalid marks an error that is the editor's to correct.
var ErrInvalid = errors.New("invalid")

// ErrNotFound marks a delivery, article, channel or address that does not
// exist.
var ErrNotFound = errors.New("not found")

// Overview is the front page.
type Overview struct {
	Feeds    []FeedStatus
	Channels []ChannelStatus
	Digests  []DigestChannelStatus
	Lists    []ListCounts
}

// FeedStatus is one feed as the overview shows it.
type FeedStatus struct {
	ID  string
	URL string // without any password it carries
	// LastPollAt is the last poll, LastOKAt the last one that read the
	// feed; LastError is empty when the last poll succeeded.
	LastPollAt time.Time
	LastOKAt   time.Time
	LastError  string
	Failures   int       // consecutive failed polls
	NextPollAt time.Time // zero: polled only on request
	Gone       bool      // answered 410 Gone: not polled while configured so
	BackingOff bool      // failures or Retry-After put off the next poll
	MovedTo    string    // a permanent redirect followed
	Review     bool      // review: true
	// WebSub is the hub subscription's state ("pending", "active"), empty
	// without one.
	WebSub           string
	WebSubHub        string
	WebSubLeaseUntil time.Time
}

// ChannelStatus is one channel as the overview shows it.
type ChannelStatus struct {
	ID          string
	Type        string // mastodon, telegram or email
	Paused      bool
	PausedSince time.Time
	Review      bool      // review: true
	LastSuccess time.Time // the last delivery sent (or digested)
	// FailedAttempts24h counts the attempts of the last 24 hours that did
	// not end sent.
	FailedAttempts24h int
	// Counts is the number of deliveries per state.
	Counts map[syndicate.State]int
}

// Waiting is how many of the channel's deliveries wait for an editor.
func (c ChannelStatus) Waiting() int {
	return c.Counts[syndicate.StateHeld] + c.Counts[syndicate.StateUncertain] + c.Counts[syndicate.StateFailed] + c.Counts[syndicate.StateReview]
}

// DigestChannelStatus is an email channel's next and last digests.
type DigestChannelStatus struct {
	ChannelID string
	List      string
	Paused    bool
	NextAt    time.Time // zero: unknown
	// NextArticles is how many articles the next digest holds so far.
	NextArticles int
	Recent       []DigestSummary // newest first
}

// DigestSummary is one digest with its messages counted by state.
type DigestSummary struct {
	ID         int64
	Period     string
	Articles   int
	CreatedAt  time.Time
	FinishedAt time.Time
	Counts     map[syndicate.RecipientState]int
}

// ListCounts counts a subscriber list's addresses by state.
type ListCounts struct {
	List   string
	Counts map[syndicate.SubscriberState]int
}

// Total is every address on the list.
func (l ListCounts) Total() int {
	n := 0
	for _, c := range l.Counts {
		n += c
	}
	return n
}

// ArticleQuery filters the article list; zero fields match everything.
type ArticleQuery struct {
	Feed    string
	Channel string
	States  []syndicate.State
	Text    string // in the title
	Offset  int
	Limit   int
}

// ArticlePage is one page of the article list, newest first.
type ArticlePage struct {
	Rows  []ArticleRow
	Total int // articles matching in all
	// Feeds and Channels are the configured ids, for the filters.
	Feeds    []string
	Channels []string
}

// ArticleRow is one article with a badge per channel it goes to.
type ArticleRow struct {
	Article syndicate.Article
	Badges  []Badge
}

// Badge is one delivery as the article list shows it.
type Badge struct {
	Delivery syndicate.Delivery
	// Digest is the digest that took the article, 0 for none.
	Digest int64
}

// DigestOf returns the digest number a delivery's remote id names
// ("digest:12"), or 0.
func DigestOf(d syndicate.Delivery) int64 {
	rest, ok := strings.CutPrefix(d.RemoteID, "digest:")
	if !ok {
		return 0
	}
	var n int64
	for _, r := range rest {
		if r < '0' || r > '9' {
			return 0
		}
		n = n*10 + int64(r-'0')
	}
	return n
}

// ArticleDetail is the article page: the article and each of its
// deliveries, with the post as it will be, or was, sent.
type ArticleDetail struct {
	Article    syndicate.Article
	Deliveries []DeliveryDetail
}

// ChannelInfo is what the article page needs to know of a channel.
type ChannelInfo struct {
	ID           string
	Type         string // mastodon, telegram or email
	EditOnUpdate bool   // on_update: edit
	TakesText    bool   // an editor may rewrite its text in review
	Paused       bool
	Review       bool
}

// DeliveryInfo is a delivery with its channel.
type DeliveryInfo struct {
	Delivery syndicate.Delivery
	Channel  ChannelInfo
}

// DeliveryDetail is one delivery of the article page.
type DeliveryDetail struct {
	DeliveryInfo
	Preview  Preview
	Attempts []syndicate.Attempt
}

// Preview is a post as its channel renders it.
type Preview struct {
	Rendering syndicate.Rendering
	// Error says why the channel could not render it.
	Error string
	// ImageAlt is the image's description (Mastodon) or caption.
	ImageAlt string
	// Button is the label of Telegram's inline button, ButtonURL where it
	// leads; empty without a button.
	Button    string
	ButtonURL string
}

// Action is one of the dashboard's buttons. Each is a command of the
// command line, with the same effect (see syndicate.Decision).
type Action string

// The actions, each named as its button is labelled.
const (
	ActionRetry     Action = "retry"
	ActionSendNow   Action = "send-now"
	ActionRelease   Action = "release"
	ActionSendAgain Action = "send-again"
	ActionSkip      Action = "skip"
	ActionDrop      Action = "drop"
	ActionMarkSent  Action = "mark-sent"
	ActionPushEdit  Action = "push-edit"
	ActionApprove   Action = "approve"
)

var actionLabels = map[Action]string{
	ActionRetry: "Retry", ActionSendNow: "Send now", ActionRelease: "Release", ActionSendAgain: "Send again",
	ActionSkip: "Skip", ActionDrop: "Drop", ActionMarkSent: "Mark sent", ActionPushEdit: "Push edit", ActionApprove: "Approve",
}

// Label is the text of the action's button.
func (a Action) Label() string { return actionLabels[a] }

// Decision is the editor's decision the action is, for those that are one
// (Retry, Release, Send now and Send again retry; Skip and Drop skip; Mark
// sent marks sent). Approve and Push edit are not.
func (a Action) Decision() (syndicate.Decision, bool) {
	switch a {
	case ActionRetry, ActionRelease, ActionSendNow, ActionSendAgain:
		return syndicate.DecideRetry, true
	case ActionSkip, ActionDrop:
		return syndicate.DecideSkip, true
	case ActionMarkSent:
		return syndicate.DecideMarkSent, true
	}
	return "", false
}

// ActionsFor lists the actions that apply to a delivery, in the order the
// article page shows their buttons.
func ActionsFor(d syndicate.Delivery, ch ChannelInfo) []Action {
	switch d.State {
	case syndicate.StatePending:
		if ch.Type == "email" {
			return []Action{ActionSkip} // it waits for the next digest
		}
		return []Action{ActionSendNow, ActionSkip}
	case syndicate.StateFailed:
		return []Action{ActionRetry, ActionSkip}
	case syndicate.StateHeld:
		return []Action{ActionRelease, ActionDrop}
	case syndicate.StateUncertain:
		return []Action{ActionMarkSent, ActionSendAgain, ActionSkip}
	case syndicate.StateReview:
		return []Action{ActionApprove, ActionSkip}
	case syndicate.StateSent:
		if ch.EditOnUpdate && d.RemoteID != "" && DigestOf(d) == 0 {
			return []Action{ActionPushEdit}
		}
	}
	return nil
}

// SubscriberQuery selects subscribers: a list, and addresses containing
// a text.
type SubscriberQuery struct {
	List  string
	Email string // part of the address, without regard to case
	Limit int
}

// SubscriberPage is the subscribers page: every list's counts, and the
// addresses found.
type SubscriberPage struct {
	Lists   []ListCounts
	Found   []syndicate.Subscriber
	More    bool // more addresses matched than Limit
	Browsed bool // a search was made
}

// ImportReport is what an import did, as the command line reports it.
type ImportReport struct {
	Summary string // how many were added, kept and bad
	// Problems are the bad rows, one line each, as the command line
	// prints them.
	Problems []string
}

// StatusQuery narrows the status document as `status`'s flags do.
type StatusQuery struct {
	Feed    string
	Channel string
	States  string // comma-separated
	Limit   int
}

// DigestPage is one page of a digest's messages, with the digest.
type DigestPage struct {
	Digest syndicate.Digest
	List   string // the subscriber list its channel mails
	// Counts is every message of the digest by state.
	Counts   map[syndicate.RecipientState]int
	Messages []syndicate.DigestMessage
	Total    int // messages in the states asked for, in all
}

// DigestAction is what an editor does to messages of a digest, as the
// command `digest resend|mark-sent` does.
type DigestAction string

const (
	// DigestResend mails the messages again (they become deferred): an
	// uncertain one may then arrive twice.
	DigestResend DigestAction = "resend"
	// DigestMarkSent records them as sent: they are not mailed again.
	DigestMarkSent DigestAction = "mark-sent"
)

// Label is the text of the action's button.
func (a DigestAction) Label() string {
	switch a {
	case DigestResend:
		return "Resend"
	case DigestMarkSent:
		return "Mark sent"
	}
	return ""
}

// DigestActReport is what DigestAct did.
type DigestActReport struct {
	Changed int // messages moved
	// Missing are the addresses asked for that had no message in those
	// states (one already decided on, or not of this digest).
	Missing []string
}
