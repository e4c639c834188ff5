package syndicate

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a Store when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrBusy is wrapped by a store's errors when another process held the
// store locked past its wait (a backup, a VACUUM): nothing was written, and
// the same write may simply be made again.
var ErrBusy = errors.New("the store is busy (locked by another process)")

// ErrConflict is returned by UpdateDelivery when the row is no longer in
// the state the caller read it in (another process or an editor moved it).
var ErrConflict = errors.New("delivery changed concurrently")

// FeedState is what is remembered about a feed between polls.
type FeedState struct {
	FeedID       string
	ETag         string
	LastModified string
	LastPollAt   time.Time
	LastOKAt     time.Time // last poll that read the feed (200 or 304)
	LastError    string    // empty when the last poll succeeded
	Failures     int       // consecutive failed polls
	// NextPollAt, when set, is the earliest time the feed may be polled
	// again (Retry-After, or backoff after failures).
	NextPollAt time.Time
	// GoneURL is a URL that answered 410 Gone: while the feed is
	// configured with it, it is not polled.
	GoneURL string
	// MovedFrom → MovedTo is a permanent redirect: while the feed is
	// configured with MovedFrom, MovedTo is fetched instead.
	MovedFrom string
	MovedTo   string
}

// Subscription is a WebSub subscription of a feed at its hub.
type Subscription struct {
	FeedID     string
	Hub        string
	Topic      string
	Secret     string    // hub.secret: signs the content the hub delivers
	State      string    // "pending" until the hub verifies, then "active"
	LeaseUntil time.Time // when the hub forgets it; renewed before
	UpdatedAt  time.Time
}

// KnownArticle is what the planner needs to know of an article already seen.
type KnownArticle struct {
	ID   int64
	Hash string
}

// Alias records a new key of a feed that points to an article already seen
// under another key with the same canonical link.
type Alias struct {
	Key  string
	Link string
}

// NewDelivery is a ledger row the planner wants created. The store skips it,
// without error, when the channel already has a delivery for the article or
// for another article with the same DedupeLink.
type NewDelivery struct {
	// ArticleKey is the key or alias key of an article of the same poll or
	// known before; an unknown key fails the whole poll.
	ArticleKey string
	ChannelID  string
	State      State     // StatePending or StateHeld
	SortTime   time.Time // zero: the article's SortTime
}

// PollRecord is the outcome of one successful poll, written atomically.
// Recording the same outcome twice changes nothing the first did not.
type PollRecord struct {
	State FeedState // State.FeedID names the feed polled
	// Articles are new (keys never seen in this feed); a FirstSeen set by
	// the caller is kept, else the store's clock sets it.
	Articles []Article
	Aliases  []Alias
	// Updated are known articles whose Hash changed, found by ID (else by
	// key); their identity (feed, key, link) and FirstSeen are kept.
	Updated    []Article
	Deliveries []NewDelivery
	// Routes are the channels now established for the feed (baselined).
	Routes []string
	// Release, when its Name is set, is a lease ended in the same
	// transaction, as ReleaseLease ends it: the poll's own.
	Release HeldLease
}

// HeldLease names a lease and the owner that holds it.
type HeldLease struct {
	Name, Owner string
}

// LeaseClaim asks for a lease as TakeLease does: Name for Owner until
// Until, when it is free at Now or held by Replacing.
type LeaseClaim struct {
	Name, Owner string
	Now, Until  time.Time
	Replacing   string
}

// DeliveryView is a delivery with the article it carries, for status pages.
type DeliveryView struct {
	Delivery
	Article Article
}

// DeliveryFilter narrows ListDeliveries; zero fields match everything.
type DeliveryFilter struct {
	ArticleID int64
	FeedID    string
	ChannelID string
	States    []State
	Limit     int // 0: no limit
}

// ArticleFilter narrows ListArticles; zero fields match everything.
type ArticleFilter struct {
	FeedID string
	// ChannelID and States keep the articles with a delivery to that
	// channel, in one of those states (both apply to the same delivery).
	ChannelID string
	States    []State
	Query     string // in the title, without regard to case
	Limit     int    // 0: no limit
	Offset    int
}

// ArticleView is an article, without its content, with every delivery of
// it (by channel id).
type ArticleView struct {
	Article    Article
	Deliveries []Delivery
}

// Attempt is one send of a delivery, as the article page lists them.
type Attempt struct {
	DeliveryID int64
	At         time.Time
	Took       time.Duration
	State      State // what the delivery moved to: sent, pending (to retry), failed, uncertain
	Error      string
}

// EditorStore is what the editor's desk needs of a store: articles page
// by page, the attempts of a delivery, and paused channels.
type EditorStore interface {
	// ListArticles returns the articles that match f, newest first, and
	// how many match in all.
	ListArticles(ctx context.Context, f ArticleFilter) ([]ArticleView, int, error)
	RecordAttempt(ctx context.Context, a Attempt) error
	// Attempts returns a delivery's attempts, oldest first.
	Attempts(ctx context.Context, deliveryID int64) ([]Attempt, error)
	// SetPaused pauses or resumes a channel; PausedChannels returns the
	// paused ones with when they were paused.
	SetPaused(ctx context.Context, channelID string, paused bool) error
	PausedChannels(ctx context.Context) (map[string]time.Time, error)
}

// ChangeWatcher tells that another process (the command line, another
// replica) wrote to the store: Changes sends on the channel after such a
// write, until ctx ends.
type ChangeWatcher interface {
	Changes(ctx context.Context) <-chan struct{}
}

// Store keeps the feed state, the articles seen, the delivery ledger, the
// digests and the email lists; it tells of other processes' writes. Every
// store provides all of it, so nothing asks at run time what a store can
// do. Every method is safe for concurrent use.
type Store interface {
	DigestStore
	SubscriberStore
	EditorStore
	ChangeWatcher

	// FeedState returns the saved state, or a zero state (with FeedID set)
	// for a feed never polled.
	FeedState(ctx context.Context, feedID string) (FeedState, error)
	SaveFeedState(ctx context.Context, s FeedState) error
	// StartPoll takes the claimed lease, as TakeLease does, and reads the
	// feed's state, in one transaction; it returns the lease's holder
	// after the call (the state only when that is claim.Owner).
	StartPoll(ctx context.Context, feedID string, claim LeaseClaim) (FeedState, string, error)

	// KnownKeys returns, of the given keys, those already recorded for the
	// feed (as an article key or an alias), with the article they lead to.
	KnownKeys(ctx context.Context, feedID string, keys []string) (map[string]KnownArticle, error)
	// KnownLinks returns, of the given canonical links, those of articles
	// already recorded for the feed.
	KnownLinks(ctx context.Context, feedID string, links []string) (map[string]KnownArticle, error)
	// Routes returns the channels already established (baselined) for the feed.
	Routes(ctx context.Context, feedID string) (map[string]bool, error)
	// RecordPoll writes one poll's outcome in a single transaction. A
	// record of the state alone (a feed that answered 304, or failed) is
	// not announced to other processes: nothing they act on changed.
	RecordPoll(ctx context.Context, rec PollRecord) error

	Article(ctx context.Context, id int64) (Article, error)
	Delivery(ctx context.Context, id int64) (Delivery, error)
	// DueDeliveries returns a channel's pending deliveries due at now,
	// oldest article first (SortTime, then ID); limit <= 0 means no limit.
	DueDeliveries(ctx context.Context, channelID string, now time.Time, limit int) ([]Delivery, error)
	// NextDue returns the earliest NextAttempt of the channel's pending
	// deliveries; ok is false when there are none.
	NextDue(ctx context.Context, channelID string) (t time.Time, ok bool, err error)
	// UpdateDelivery saves d if the stored row is still in state from;
	// otherwise it returns ErrConflict (ErrNotFound for an unknown id) and
	// changes nothing. It sets UpdatedAt itself and never changes the
	// article, channel, SortTime or CreatedAt.
	UpdateDelivery(ctx context.Context, d Delivery, from State) error
	// ListDeliveries lists deliveries oldest article first; with a Limit,
	// the newest Limit of them. Articles come without ContentHTML.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]DeliveryView, error)
	// CountDeliveries returns the number of deliveries per channel and state.
	CountDeliveries(ctx context.Context) (map[string]map[State]int, error)

	// Subscription returns the feed's WebSub subscription, or ErrNotFound.
	Subscription(ctx context.Context, feedID string) (Subscription, error)
	SaveSubscription(ctx context.Context, s Subscription) error
	DeleteSubscription(ctx context.Context, feedID string) error

	// TakeLease gives the named lease to owner until until, when it is
	// free: never taken, released, ended by now, already owner's, or held
	// by replacing (a holder the caller knows has stopped; "" for none).
	// It returns the holder after the call: owner when granted. Two
	// processes never both hold a lease.
	TakeLease(ctx context.Context, name, owner string, now, until time.Time, replacing string) (holder string, err error)
	// ReleaseLease ends the named lease if owner holds it.
	ReleaseLease(ctx context.Context, name, owner string) error

	// EnsureMeta stores value under key unless a value is already there,
	// and returns the stored one: the first writer wins, even across
	// processes (a generated secret).
	EnsureMeta(ctx context.Context, key, value string) (string, error)
	// Meta returns the value kept under key; ok is false when there is none.
	Meta(ctx context.Context, key string) (value string, ok bool, err error)
	// SetMeta keeps value under key, replacing what was there.
	SetMeta(ctx context.Context, key, value string) error

	Close() error
}

// FeedSource is a feed as the reader needs to know it.
type FeedSource struct {
	ID       string
	URL      string
	Language string // used when the feed declares none
}

// Validators are the conditional-GET values of the last answer.
type Validators struct {
	ETag         string
	LastModified string
}

// FetchResult is one read of a feed.
type FetchResult struct {
	NotModified bool // 304: nothing was parsed
	Validators  Validators
	Articles    []Article // in document order, Position set
	// PermanentURL is where permanent redirects (301, 308) led, when they
	// did; empty otherwise.
	PermanentURL string
	// Hub and Self are the WebSub hub and topic the feed advertises (Link
	// headers first, then atom:link), empty when it advertises none.
	Hub  string
	Self string
	// Truncated is set when the document was cut short and only its
	// complete items were kept.
	Truncated bool
	// Warnings say what of the document could not be read as written (a
	// date in an unknown time zone); the poll logs them.
	Warnings []string
}

// FeedReader fetches and parses a feed.
type FeedReader interface {
	Read(ctx context.Context, src FeedSource, v Validators) (FetchResult, error)
}

// FetchError is what a FeedReader returns for an HTTP answer that is not a
// feed: any status other than 2xx and 304, with the time the server asked
// to wait for (429/503 Retry-After), or 410 when the feed is gone.
type FetchError struct {
	Status     int
	RetryAfter time.Time
	Err        error
}

func (e *FetchError) Error() string { return e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }
