// Package syndicate is the domain of the daemon: articles read from feeds,
// deliveries of those articles to channels, and the pipeline that moves one
// to the other exactly once. It defines the interfaces it consumes (Store,
// Channel, FeedReader) and imports none of its subpackages; the concrete
// store, channels and fetcher are wired in by cmd/syndicate.
package syndicate

import (
	"context"
	"time"
)

// Article is one item of a feed, normalised whatever the feed's format.
type Article struct {
	FeedID string
	// Key identifies the article within its feed for ever: the GUID or Atom
	// id as written, else the canonical link, else a content hash.
	Key string
	// LegacyKey, set by the reader when it differs from Key, is the key an
	// earlier version of the reader gave the same item (an Atom id
	// rewritten as a URL): an article stored under it is this one. It is
	// not stored.
	LegacyKey string
	// Link is the canonical link: absolute, lower-case host, no fragment,
	// no utm_* parameters. Empty when the item has none.
	Link         string
	Title        string // plain text, entities decoded
	Summary      string // plain text: the feed's summary, else the lead paragraph
	ContentHTML  string
	ImageURL     string
	ImageCaption string // caption or alt text of the featured image
	// Categories are what filters match: the text of RSS categories, the
	// terms of Atom ones.
	Categories []string
	// CategoryLabels, when not nil, is aligned with Categories: the label
	// to show for each (an Atom category's label), "" for one without.
	// CategoryNames gives what to show.
	CategoryLabels []string
	// Related are the article's "Read also" links, kept apart from the
	// summary so channels can show them.
	Related   []Link
	Language  string // the item's or feed's language, else the configured one
	Author    string
	Published time.Time // zero when the feed gave no usable date
	Updated   time.Time
	// Position is the item's index in the fetched document (0 = first).
	Position int
	// Hash changes whenever the title, summary, content or image change.
	Hash string

	// Set by the store.
	ID        int64
	FirstSeen time.Time
}

// Link is a titled link.
type Link struct {
	Title string
	URL   string
}

// SortTime orders articles oldest first: published, else updated, else the
// time it was first seen.
func (a Article) SortTime() time.Time {
	switch {
	case !a.Published.IsZero():
		return a.Published
	case !a.Updated.IsZero():
		return a.Updated
	default:
		return a.FirstSeen
	}
}

// CategoryNames are the categories as a hashtag or a digest may show
// them: each one's label, else the category itself.
func (a Article) CategoryNames() []string {
	if len(a.CategoryLabels) == 0 {
		return a.Categories
	}
	names := make([]string, len(a.Categories))
	for i, c := range a.Categories {
		names[i] = c
		if i < len(a.CategoryLabels) && a.CategoryLabels[i] != "" {
			names[i] = a.CategoryLabels[i]
		}
	}
	return names
}

// DedupeLink is what must never be sent twice to one channel: the canonical
// link, or, for an article without one, its feed and key.
func (a Article) DedupeLink() string {
	if a.Link != "" {
		return a.Link
	}
	return "key:" + a.FeedID + "|" + a.Key
}

// State is where a delivery stands in the ledger.
type State string

const (
	StatePending   State = "pending"   // waiting for its first or next attempt
	StateSending   State = "sending"   // a request may be on the wire
	StateSent      State = "sent"      // the channel accepted it
	StateFailed    State = "failed"    // permanent error, or retry budget spent
	StateHeld      State = "held"      // stopped by the flood guard
	StateSkipped   State = "skipped"   // an editor decided never to send it
	StateUncertain State = "uncertain" // interrupted after the request left
	StateReview    State = "review"    // waits for an editor's approval (review: true)
)

// States lists every state, in the order status shows them.
var States = []State{StatePending, StateSending, StateSent, StateFailed, StateHeld, StateReview, StateSkipped, StateUncertain}

// Delivery is one row of the ledger: one article to one channel.
type Delivery struct {
	ID          int64
	ArticleID   int64
	ChannelID   string
	State       State
	Attempts    int
	NextAttempt time.Time // when a pending delivery is next due
	LastError   string
	RemoteID    string
	RemoteURL   string
	// SortTime copies the article's SortTime so a channel's queue goes out
	// oldest first.
	SortTime  time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	// SendingSince is when the last attempt started (set with StateSending).
	SendingSince time.Time
	// Owner is the process that made the last attempt (see NewOwner):
	// while it runs, no other settles the delivery it left sending.
	Owner string
	// Override is the text an editor wrote for this channel in review, in
	// the channel's markup; empty: the channel renders the article. Every
	// send, retry and edit of the delivery uses it.
	Override string
}

// Receipt is what a channel returns for an accepted post.
type Receipt struct {
	RemoteID string
	URL      string
	// Warning says what the post went out without (an image that could not
	// be fetched, say); status shows it.
	Warning string
}

// Post is what a channel is asked to send.
type Post struct {
	DeliveryID int64
	Article    Article
	// IdempotencyKey is stable across attempts of one delivery.
	IdempotencyKey string
	// Override, when set, is the text to send instead of the channel's
	// own rendering (Delivery.Override).
	Override string
}

// Rendering is a post exactly as a channel would send it.
type Rendering struct {
	Text string // the text or caption, in the channel's markup
	// Format is "text" (plain text; Links mark what shows as links) or
	// "html" (Telegram's HTML subset).
	Format string
	Length int // counted the way the platform counts
	Limit  int // the platform's limit for this kind of post
	// Counting names how Length counts (CountGraphemes, …), for a count
	// made as an editor types; "" is CountGraphemes.
	Counting string
	Image    string // featured image sent with it, if any
	// Button is the label of a button the platform shows under the post
	// (Telegram's inline button), ButtonURL what it opens; "" for none.
	Button, ButtonURL string
	// Links are the spans of a plain Text that the platform shows as
	// links to a URL of their own (Bluesky's facets), in order.
	Links []LinkSpan
	// Card is the link card shown under the post; nil for none.
	Card *Card
}

// How a platform counts a text's length (Rendering.Counting).
const (
	CountGraphemes         = "graphemes"         // every character, URLs in full (Bluesky)
	CountGraphemesURLsAs23 = "graphemes-urls-23" // every URL counts 23 (Mastodon)
	CountUTF16HTML         = "utf16-html"        // UTF-16 units of the text the HTML shows (Telegram)
)

// LinkSpan is a part of a text shown as a link: Text[Start:End], in bytes.
type LinkSpan struct {
	Start, End int
	URL        string
}

// Card is a link card: the page it opens, its title, description and
// thumbnail (a URL; "" for none).
type Card struct {
	URL, Title, Description, Thumb string
}

// Channel is a destination: a Mastodon account, a Telegram chat.
type Channel interface {
	// Send posts once. Its error is classified, so the pipeline knows
	// whether and when to retry: a channel that cannot tell whether its
	// request left says Uncertain (Classified does so for any error).
	// Take the error into a *SendError variable: a nil *SendError kept
	// in an error variable is not a nil error.
	Send(ctx context.Context, post Post) (Receipt, *SendError)
	// Render shows what Send would post, without any network call.
	Render(post Post) (Rendering, error)
}

// Capabilities are what a channel can do besides Send and Render, as its
// constructor declares them (see Built); a nil field is a thing it cannot
// do. The engine asks nothing of a channel at run time.
type Capabilities struct {
	Editor      Editor      // changes a post already sent (on_update: edit)
	Resolver    Resolver    // finds out whether an interrupted send was posted
	TextChecker TextChecker // renders an editor's rewritten text as Send would
	Checker     Checker     // reaches the platform with the channel's credentials (check --online)
	// Resendable: sending a post again, however late, never makes a second
	// one (Bluesky's fixed record keys: Send finds the post it made), so an
	// interrupted send is simply sent again, never left uncertain.
	Resendable bool
}

// Built is a channel as its constructor returns it: what posts, and what
// else it can do.
type Built struct {
	Channel Channel
	Capabilities
}

// Checker reaches the platform with the channel's credentials, for
// `check --online`, and says as whom.
type Checker interface {
	Check(ctx context.Context) (string, error)
}

// Editor changes a post already sent (on_update: edit).
type Editor interface {
	Edit(ctx context.Context, post Post, sent Receipt) (Receipt, error)
}

// TextChecker renders a post with an editor's rewritten text as Send
// would, and refuses what the platform would refuse (over the limit,
// markup it rejects).
type TextChecker interface {
	CheckText(post Post) (Rendering, error)
}

// Resolver finds out, after a crash, whether an interrupted send reached
// the platform.
type Resolver interface {
	// Resolve looks for the post; found reports whether it was.
	Resolve(ctx context.Context, post Post, since time.Time) (r Receipt, found bool, err error)
}
