package syndicate

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// Feed is a configured feed and where its articles go.
type Feed struct {
	Source FeedSource
	// Schedule fires the feed's polls; nil means the feed is polled only
	// at start and on request.
	Schedule   cron.Schedule
	Backfill   int // on first sight, how many of the newest items to send
	FloodLimit int // more new items than this in one poll are held
	To         []string
	Filter     Filter
	// Review makes the feed's new deliveries wait in StateReview for an
	// editor's approval, whatever the channel.
	Review bool
}

// Filter decides which articles of a feed are delivered.
type Filter struct {
	IncludeCategories []string // when set, at least one must match
	ExcludeCategories []string // none may match
	Match             *regexp.Regexp
}

// Allows reports whether the article passes the filter. Categories are
// compared without regard to case.
func (f Filter) Allows(a Article) bool {
	has := func(names []string) bool {
		return slices.ContainsFunc(a.Categories, func(c string) bool {
			return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, c) })
		})
	}
	if len(f.IncludeCategories) > 0 && !has(f.IncludeCategories) {
		return false
	}
	if has(f.ExcludeCategories) {
		return false
	}
	return f.Match == nil || f.Match.MatchString(a.Title)
}

// RetryPolicy is a channel's retry budget.
type RetryPolicy struct {
	MaxAttempts int
	MinBackoff  time.Duration
	MaxBackoff  time.Duration
}

// Backoff is the wait before attempt number attempts+1: doubling from
// MinBackoff, capped at MaxBackoff, with jitter (0 ≤ jitter < 1) taking off
// up to half so retries of many deliveries do not fall in step.
func (p RetryPolicy) Backoff(attempts int, jitter float64) time.Duration {
	d := p.MinBackoff
	for i := 1; i < attempts && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	return d - time.Duration(float64(d)/2*jitter)
}

// Target is a channel with its delivery settings.
type Target struct {
	ID      string
	Channel Channel
	// Capabilities are what Channel can do besides posting, as its
	// constructor declared them.
	Capabilities
	Retry RetryPolicy
	// EditOnUpdate: when a sent article changes, edit the post (the
	// channel must have an Editor).
	EditOnUpdate bool
	// Review makes the channel's new deliveries wait in StateReview for
	// an editor's approval.
	Review bool
}

// HubWatcher learns which WebSub hub each feed advertises (hub is empty
// when it advertises none), to subscribe, renew or unsubscribe.
type HubWatcher interface {
	Advertised(ctx context.Context, feedID, hub, self string)
}

// Observer receives what the pipeline and the digest runs do, for
// metrics.
type Observer interface {
	// Polled is called once per poll; result is "ok", "not_modified",
	// "error" or "deferred".
	Polled(feedID, result string, took time.Duration)
	// Attempted is called once per send attempt; outcome is the state the
	// delivery moved to (sent, pending, failed, uncertain).
	Attempted(channelID string, outcome State, took time.Duration)
	// DigestMessages is called as messages of a digest of the channel
	// are recorded: n of them reached state (sent, deferred, failed, or
	// uncertain — also those a crash left in flight, settled at the next
	// start). A deferred message tried again is counted again.
	DigestMessages(channelID string, state RecipientState, n int)
	// Digested is called once per digest finished (DigestSent), per
	// digest due with nothing to send (DigestEmpty), and per pass over
	// the channel's digests that failed (DigestError).
	Digested(channelID string, result DigestResult)
}

type nopObserver struct{}

func (nopObserver) Polled(string, string, time.Duration)       {}
func (nopObserver) Attempted(string, State, time.Duration)     {}
func (nopObserver) DigestMessages(string, RecipientState, int) {}
func (nopObserver) Digested(string, DigestResult)              {}

// Engine runs the pipeline: poll → plan → deliver → record.
type Engine struct {
	Store    Store
	Reader   FeedReader
	Feeds    []Feed
	Targets  map[string]Target
	Log      *slog.Logger
	Observer Observer
	Hubs     HubWatcher // optional: WebSub
	Now      func() time.Time
	Jitter   func() float64 // in [0, 1)
	// DryRun: poll, plan and render, but send nothing and write nothing;
	// what would be sent is printed to DryRunOut.
	DryRun    bool
	DryRunOut io.Writer
	// DryRunPrint, when set, prints what a channel would send in a dry
	// run, instead of the plain form written to DryRunOut.
	DryRunPrint func(channelID string, a Article, r Rendering)
	// AfterFirstPolls, when set, is called by Run once the poll of every
	// feed made at start has ended.
	AfterFirstPolls func(context.Context)
	// MaxConcurrentPolls bounds the polls in flight, in Run and Once;
	// default DefaultPollConcurrency. Waiting for a slot does not count
	// against a feed's fetch timeout.
	MaxConcurrentPolls int
	// SendTimeout bounds one send, which is not cut by shutdown (so its
	// outcome is recorded); default 2 minutes.
	SendTimeout time.Duration
	// Owner names this process in the work it claims (see NewOwner);
	// default a new name.
	Owner string

	// Digests are the email channels: the planner creates their
	// deliveries like any channel's, but no delivery worker sends them;
	// they go out gathered in digests (see CheckDigests).
	Digests map[string]DigestTarget
	// DigestInterval is how often Run checks whether a digest is due;
	// default DefaultDigestInterval.
	DigestInterval time.Duration

	ownerOnce sync.Once
	// digestWake asks digestLoop for a pass now (see WakeDigests).
	digestWakeOnce sync.Once
	digestWake     chan struct{}
	// heldChannels: channel id → until when this process holds its
	// queue's lease (time.Time).
	heldChannels sync.Map
	// channelsElsewhere: channel id → when to ask again for a queue held
	// by another process (time.Time).
	channelsElsewhere sync.Map
	// channelWait: channel id → until when its queue waits after a
	// retryable failure (time.Time).
	channelWait sync.Map
	polling     sync.Map // feed id → *sync.Mutex: no overlapping polls of a feed
	ready       atomic.Bool
	running     atomic.Pointer[daemon]       // set while Run runs: Wake reaches its workers
	requests    atomic.Pointer[pollRequests] // set while Run runs: PollNow adds to it
	slotsOnce   sync.Once
	pollSlots   pollSlots
	feedsOnce   sync.Once
	feedsByID   map[string]int // index in Feeds
	printMu     sync.Mutex
	runStats    runStats
	digests     digestState
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (e *Engine) observer() Observer {
	if e.Observer != nil {
		return e.Observer
	}
	return nopObserver{}
}

func (e *Engine) feed(id string) (Feed, bool) {
	e.feedsOnce.Do(func() {
		e.feedsByID = make(map[string]int, len(e.Feeds))
		for i, f := range e.Feeds {
			if _, dup := e.feedsByID[f.Source.ID]; !dup {
				e.feedsByID[f.Source.ID] = i
			}
		}
	})
	i, ok := e.feedsByID[id]
	if !ok {
		return Feed{}, false
	}
	return e.Feeds[i], true
}

// IdempotencyKey is stable for one article on one channel, across attempts,
// restarts and even a rebuilt database.
func IdempotencyKey(channelID string, a Article) string {
	return hashHex("idem", channelID, a.FeedID, a.Key)[:32]
}

// runStats counts what ended badly during this process's life, for once's
// exit code.
type runStats struct {
	mu        sync.Mutex
	failed    int
	uncertain int
	feedErrs  map[string]error
}

func (s *runStats) deliveryEnded(st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case StateFailed:
		s.failed++
	case StateUncertain:
		s.uncertain++
	}
}

func (s *runStats) feedResult(id string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.feedErrs == nil {
		s.feedErrs = map[string]error{}
	}
	s.feedErrs[id] = err
}

// detached returns a context that outlives ctx's cancellation but not the
// timeout: a send in flight at shutdown finishes and is recorded.
func detached(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), timeout)
}
