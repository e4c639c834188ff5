package syndicate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Mailer sends the digests of one email channel.
type Mailer interface {
	// Prepare renders a digest once; every message of it is built from
	// the result, with only the recipient's own links put in.
	Prepare(ctx context.Context, d Digest, articles []Article) (Mailing, error)
}

// Mailing is one rendered digest on its way to the subscribers. It may
// keep connections to the mail server open from one batch to the next;
// Close releases them.
type Mailing interface {
	// Send mails each subscriber of the batch once and returns, in the
	// batch's order, what became of each message, telling log as each
	// message's SMTP transaction begins and as its outcome is known; a
	// message whose Begin fails is not sent (deferred). An error says the
	// mail server could not be reached, or refused the sender, so that
	// the rest of the list would fare no better: the run stops there, and
	// the messages of the batch that were not sent come back deferred.
	Send(ctx context.Context, batch []Subscriber, log MessageLog) ([]MailResult, error)
	Close() error
}

// MessageLog is where a Mailing reports each message as it goes: Begin
// before its SMTP transaction begins (the message may then reach the
// server), Ended once its outcome is known, before the connection
// begins another. A nil MessageLog is not allowed.
type MessageLog interface {
	Begin(Subscriber) error
	Ended(Subscriber, MailResult)
}

// MailResult is the outcome of one message.
type MailResult struct {
	// State is RecipientSent, RecipientDeferred (4xx, or the message did
	// not leave), RecipientFailed (5xx) or RecipientUncertain (the
	// connection broke after the message was handed over).
	State RecipientState
	Err   error // why, when not sent
}

// DigestTarget is an email channel: its subscriber list, its schedule and
// what mails it.
type DigestTarget struct {
	ID       string
	List     string
	Schedule cron.Schedule
	// Location is the zone of the schedule's wall clock, which names a
	// period; a schedule with its own zone (CRON_TZ=) uses that one.
	Location *time.Location
	Mailer   Mailer
	// Retry bounds the attempts of a deferred recipient (MaxAttempts) and
	// spaces the rounds that retry them (MinBackoff doubling up to
	// MaxBackoff). The zero value: DefaultDigestRetry.
	Retry RetryPolicy
	// BatchSize is how many recipients are claimed, mailed and recorded
	// at a time, and so the most a crash can leave uncertain; default
	// DefaultDigestBatch.
	BatchSize int
	// MaxArticles caps one digest; the rest wait for the next one, oldest
	// first. Default DefaultDigestArticles.
	MaxArticles int
	// Review keeps the channel's articles out of digests until an editor
	// approves each (StateReview).
	Review bool
}

// Defaults of a DigestTarget.
const (
	DefaultDigestBatch    = 100
	DefaultDigestArticles = 50
	// DefaultDigestInterval is how often a running daemon checks whether
	// a digest is due.
	DefaultDigestInterval = 30 * time.Second
)

// DefaultDigestRetry retries a deferred recipient up to 10 times in all,
// 5 minutes after the first round and then doubling, at most 6 hours apart.
var DefaultDigestRetry = RetryPolicy{MaxAttempts: 10, MinBackoff: 5 * time.Minute, MaxBackoff: 6 * time.Hour}

func (t DigestTarget) batchSize() int {
	if t.BatchSize > 0 {
		return t.BatchSize
	}
	return DefaultDigestBatch
}

func (t DigestTarget) maxArticles() int {
	if t.MaxArticles > 0 {
		return t.MaxArticles
	}
	return DefaultDigestArticles
}

func (t DigestTarget) retry() RetryPolicy {
	if t.Retry.MaxAttempts > 0 {
		return t.Retry
	}
	return DefaultDigestRetry
}

// DigestRun is what one pass over a digest did.
type DigestRun struct {
	Digest  Digest
	Created bool                   // made by this pass
	Settled int                    // records left "sending" by a crash, now uncertain
	Counts  map[RecipientState]int // the outcomes of this pass's messages
	// Finished: every recipient has its final record (sent, failed or
	// uncertain).
	Finished bool
}

// digestState is what a process keeps between passes over its digests.
type digestState struct {
	mu     sync.Mutex
	busy   map[string]bool      // channel id → a pass is running
	rounds map[int64]roundState // digests with deferred recipients
	errs   map[string]error     // channel id → the last pass's error
	ended  map[RecipientState]int
}

type roundState struct {
	n    int       // rounds made
	next time.Time // the next may start then
}

// state returns the digest state locked; call the function returned to
// unlock it.
func (e *Engine) digestState() (*digestState, func()) {
	s := &e.digests
	s.mu.Lock()
	if s.busy == nil {
		s.busy, s.rounds = map[string]bool{}, map[int64]roundState{}
		s.errs, s.ended = map[string]error{}, map[RecipientState]int{}
	}
	return s, s.mu.Unlock
}

// lockDigest marks a channel's digests busy; false when a pass already
// runs in this process.
func (e *Engine) lockDigest(id string) bool {
	s, unlock := e.digestState()
	defer unlock()
	if s.busy[id] {
		return false
	}
	s.busy[id] = true
	return true
}

func (e *Engine) unlockDigest(id string) {
	s, unlock := e.digestState()
	defer unlock()
	delete(s.busy, id)
}

// CheckDigests makes one pass over every digest channel: it resumes the
// digests left unfinished and sends the ones due. A channel whose pass is
// already running is skipped. With ignoreBackoff, deferred recipients are
// retried at once (once), not after the wait between rounds (run).
func (e *Engine) CheckDigests(ctx context.Context, ignoreBackoff bool) error {
	ids := make([]string, 0, len(e.Digests))
	for id := range e.Digests {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			_, errs[i] = e.checkDigest(ctx, e.Digests[id], ignoreBackoff)
			if errs[i] != nil {
				e.log().Error("digest failed", "channel", id, slog.Any("error", errs[i]))
			}
			s, unlock := e.digestState()
			s.errs[id] = errs[i]
			unlock()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// checkDigest makes the digest due, if one is, and sends the channel's
// open digests: the new one, and those left unfinished by an earlier pass
// or process.
func (e *Engine) checkDigest(ctx context.Context, t DigestTarget, ignoreBackoff bool) (_ []DigestRun, err error) {
	if e.DryRun {
		return nil, e.dryRunDigest(ctx, t)
	}
	if !e.lockDigest(t.ID) {
		return nil, nil
	}
	defer e.unlockDigest(t.ID)
	defer e.observeError(t.ID, &err)
	ds := e.Store
	period, due, err := e.dueDigest(ctx, ds, t)
	if err != nil {
		return nil, err
	}
	if due {
		if _, _, err := e.createDigest(ctx, ds, t, period); err != nil {
			return nil, err
		}
		if err := ds.SetDigestClock(ctx, t.ID, e.now(), period); err != nil {
			return nil, fmt.Errorf("digest %q: set clock: %w", t.ID, err)
		}
	}

	open, err := ds.OpenDigests(ctx, t.ID)
	if err != nil {
		return nil, fmt.Errorf("digest %q: open digests: %w", t.ID, err)
	}
	var runs []DigestRun
	for _, d := range open {
		if ctx.Err() != nil {
			break
		}
		if !ignoreBackoff && e.now().Before(e.nextRound(d.ID)) {
			continue
		}
		run, err := e.sendDigest(ctx, ds, t, d)
		runs = append(runs, run)
		if err != nil {
			return runs, err
		}
	}
	return runs, nil
}

// dueDigest decides whether the channel's schedule has fired since the
// digest clock, and names the period of its latest firing. A channel seen
// for the first time starts its clock now; a period already made (the
// same wall-clock minute again, at the daylight saving fall-back) is not
// due, and only moves the clock.
func (e *Engine) dueDigest(ctx context.Context, ds DigestStore, t DigestTarget) (period string, due bool, err error) {
	now := e.now()
	last, lastPeriod, ok, err := ds.DigestClock(ctx, t.ID)
	if err != nil {
		return "", false, fmt.Errorf("digest %q: read clock: %w", t.ID, err)
	}
	if !ok {
		e.log().Info("digest channel seen for the first time: its first period starts now", "channel", t.ID)
		if err := ds.SetDigestClock(ctx, t.ID, now, ""); err != nil {
			return "", false, fmt.Errorf("digest %q: start clock: %w", t.ID, err)
		}
		return "", false, nil
	}
	if t.Schedule == nil {
		return "", false, nil
	}
	firing, fired := latestFiring(t.Schedule, last, now)
	if !fired {
		return "", false, nil
	}
	period = PeriodOf(t.Schedule, t.Location, firing)
	if period == lastPeriod {
		e.log().Info("digest schedule fired again in a period already made (daylight saving): nothing to send",
			"channel", t.ID, "period", period)
		if err := ds.SetDigestClock(ctx, t.ID, now, lastPeriod); err != nil {
			return "", false, fmt.Errorf("digest %q: set clock: %w", t.ID, err)
		}
		return "", false, nil
	}
	return period, true, nil
}

// PeriodOf names the period of a firing. A cron spec fires on the wall
// clock: its period is the wall-clock minute in the spec's zone (the
// second too, for a spec with seconds), so the same minute happening twice
// at the daylight saving fall-back is one period. An interval (@every)
// counts real time: its period is the instant, in UTC.
func PeriodOf(s cron.Schedule, loc *time.Location, firing time.Time) string {
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return firing.UTC().Format("2006-01-02T15:04:05Z")
	}
	if spec.Location != nil && spec.Location != time.Local {
		loc = spec.Location
	}
	if loc == nil {
		loc = time.UTC
	}
	if spec.Second != 1<<0 {
		return firing.In(loc).Format("2006-01-02T15:04:05")
	}
	return firing.In(loc).Format("2006-01-02T15:04")
}

// latestFiring returns the last time the schedule fired after last and
// not after now, if it did: a daemon down for several periods sends one
// digest when it starts, not one per period missed.
func latestFiring(s cron.Schedule, last, now time.Time) (time.Time, bool) {
	first := s.Next(last)
	if first.IsZero() || first.After(now) {
		return time.Time{}, false
	}
	// Walk the firings from last; a frequent schedule after a long stop
	// would take long, so start again closer to now when the walk is long.
	const maxSteps = 10000
	for _, back := range []time.Duration{0, 24 * time.Hour, time.Hour, time.Minute, time.Second} {
		t := first
		if back > 0 {
			if from := now.Add(-back); from.After(last) {
				if t = s.Next(from); t.IsZero() || t.After(now) {
					continue
				}
			}
		}
		for range maxSteps {
			n := s.Next(t)
			if n.IsZero() || n.After(now) {
				return t, true
			}
			t = n
		}
	}
	return first, true
}

// createDigest makes a digest of the channel's pending deliveries for the
// period; with none pending, nothing is made (made false).
func (e *Engine) createDigest(ctx context.Context, ds DigestStore, t DigestTarget, period string) (d Digest, made bool, err error) {
	due, err := e.Store.DueDeliveries(ctx, t.ID, e.now(), t.maxArticles())
	if err != nil {
		return Digest{}, false, fmt.Errorf("digest %q: pending articles: %w", t.ID, err)
	}
	if len(due) == 0 {
		e.log().Info("digest due, but no new articles: nothing sent", "channel", t.ID, "period", period)
		e.observer().Digested(t.ID, DigestEmpty)
		return Digest{}, false, nil
	}
	d = Digest{ChannelID: t.ID, Period: period, CreatedAt: e.now()}
	for _, dl := range due {
		d.Articles = append(d.Articles, dl.ArticleID)
	}
	stored, created, err := ds.CreateDigest(ctx, d)
	if errors.Is(err, ErrConflict) {
		e.log().Info("digest: its articles were taken meanwhile; nothing sent", "channel", t.ID, "period", period)
		e.observer().Digested(t.ID, DigestEmpty)
		return Digest{}, false, nil
	}
	if err != nil {
		return Digest{}, false, fmt.Errorf("digest %q: create: %w", t.ID, err)
	}
	if created {
		e.log().Info("digest made", "channel", t.ID, "digest", stored.ID, "period", period, "articles", len(stored.Articles))
	}
	return stored, true, nil
}

// SendDigestNow makes a digest of the channel's pending articles at once,
// outside its schedule, and sends it; the articles then count as
// digested. made is false when there was nothing to send.
func (e *Engine) SendDigestNow(ctx context.Context, channelID string) (run DigestRun, made bool, err error) {
	t, ok := e.Digests[channelID]
	if !ok {
		return DigestRun{}, false, fmt.Errorf("unknown email channel %q", channelID)
	}
	if !e.lockDigest(t.ID) {
		return DigestRun{}, false, fmt.Errorf("digest %q: already being sent", t.ID)
	}
	defer e.unlockDigest(t.ID)
	defer e.observeError(t.ID, &err)
	ds := e.Store
	d, made, err := e.createDigest(ctx, ds, t, "now:"+e.now().UTC().Format(time.RFC3339Nano))
	if err != nil || !made {
		return DigestRun{}, false, err
	}
	run, err = e.sendDigest(ctx, ds, t, d)
	run.Created = true
	return run, true, err
}

// NextDigest returns the articles the channel's next digest would hold,
// oldest first.
func (e *Engine) NextDigest(ctx context.Context, channelID string) ([]Article, error) {
	t, ok := e.Digests[channelID]
	if !ok {
		return nil, fmt.Errorf("unknown email channel %q", channelID)
	}
	due, err := e.Store.DueDeliveries(ctx, t.ID, e.now(), t.maxArticles())
	if err != nil {
		return nil, fmt.Errorf("digest %q: pending articles: %w", t.ID, err)
	}
	articles := make([]Article, 0, len(due))
	for _, d := range due {
		a, err := e.Store.Article(ctx, d.ArticleID)
		if err != nil {
			return nil, fmt.Errorf("digest %q: article %d: %w", t.ID, d.ArticleID, err)
		}
		articles = append(articles, a)
	}
	return articles, nil
}

// sendDigest mails the digest to every confirmed subscriber of the list
// without a final record: claimed in batches ("sending"), mailed, and
// recorded. It stops at the first batch the server could not take, and
// when ctx ends (the batch in flight is finished and recorded first).
func (e *Engine) sendDigest(ctx context.Context, ds DigestStore, t DigestTarget, d Digest) (DigestRun, error) {
	run := DigestRun{Digest: d, Counts: map[RecipientState]int{}}
	log := e.log().With("channel", t.ID, "digest", d.ID, "period", d.Period)
	// Every pass settles what a stopped process left in flight: at start
	// this process's own last run, later a replica that died.
	n, err := ds.SettleInFlight(ctx, d.ID, e.now(), e.stoppedOwner)
	if err != nil {
		return run, fmt.Errorf("digest %d: settle interrupted messages: %w", d.ID, err)
	}
	if n > 0 {
		run.Settled = n
		e.recipientsEnded(t.ID, RecipientUncertain, n)
		log.Warn("digest: messages interrupted in flight are now uncertain; they are not sent again", "uncertain", n)
	}

	var mailing Mailing
	defer func() {
		if mailing != nil {
			if err := mailing.Close(); err != nil {
				log.Warn("digest: closing the mail connections", slog.Any("error", err))
			}
		}
	}()
	start := e.now()
	retry := t.retry()
	var after int64
	for ctx.Err() == nil {
		// A pause stops the digest between batches: the messages in flight
		// finish, the rest wait for Resume.
		if paused, err := e.paused(ctx, t.ID); err != nil || paused {
			if paused {
				log.Info("digest: the channel is paused; the rest of the list waits", "sent", run.Counts[RecipientSent])
			}
			return run, err
		}
		subs, err := ds.Unsent(ctx, d.ID, t.List, after, t.batchSize())
		if err != nil {
			return run, fmt.Errorf("digest %d: list recipients: %w", d.ID, err)
		}
		if len(subs) == 0 {
			break
		}
		after = subs[len(subs)-1].ID
		if mailing == nil {
			if mailing, err = e.prepare(ctx, t, d); err != nil {
				return run, err
			}
		}
		stop, err := e.sendBatch(ctx, ds, mailing, d, subs, retry, run.Counts)
		if err != nil {
			return run, err
		}
		if stop != nil {
			e.deferRound(d.ID, retry)
			log.Warn("digest: the mail server did not take the messages; trying again later",
				"next_round", e.nextRound(d.ID), slog.String("error", stop.Error()))
			return run, fmt.Errorf("digest %d: %w", d.ID, stop)
		}
	}
	if ctx.Err() != nil {
		log.Info("digest: stopped; it resumes at the next start", "sent", run.Counts[RecipientSent])
		return run, nil
	}

	counts, err := ds.RecipientCounts(ctx, d.ID)
	if err != nil {
		return run, fmt.Errorf("digest %d: count recipients: %w", d.ID, err)
	}
	logPass := func(msg string, attrs ...any) {
		log.Info(msg, append([]any{"sent", run.Counts[RecipientSent], "deferred", run.Counts[RecipientDeferred],
			"failed", run.Counts[RecipientFailed], "uncertain", run.Counts[RecipientUncertain],
			"took", e.now().Sub(start).Round(time.Millisecond)}, attrs...)...)
	}
	// Left to mail: the deferred, and anyone confirmed meanwhile below the
	// walk. A deferred address since unsubscribed is not waited for.
	left, err := ds.Unsent(ctx, d.ID, t.List, 0, 1)
	if err != nil {
		return run, fmt.Errorf("digest %d: list recipients: %w", d.ID, err)
	}
	if len(left) > 0 {
		e.deferRound(d.ID, retry)
		logPass("digest pass done; deferred recipients are tried again later",
			"deferred", counts[RecipientDeferred], "next_round", e.nextRound(d.ID))
		return run, nil
	}
	if inFlight := counts[RecipientClaimed] + counts[RecipientSending]; inFlight > 0 {
		// Another process has them: it mails them, or, should it stop,
		// a later pass settles them.
		logPass("digest pass done; other processes are mailing the rest", "in_flight", inFlight)
		return run, nil
	}
	if err := ds.FinishDigest(ctx, d.ID, e.now()); err != nil {
		return run, fmt.Errorf("digest %d: finish: %w", d.ID, err)
	}
	e.forgetRounds(d.ID)
	e.observer().Digested(t.ID, DigestSent)
	run.Finished = true
	run.Digest.FinishedAt = e.now()
	logPass("digest finished", "total_sent", counts[RecipientSent], "total_failed", counts[RecipientFailed],
		"total_uncertain", counts[RecipientUncertain])
	return run, nil
}

func (e *Engine) prepare(ctx context.Context, t DigestTarget, d Digest) (Mailing, error) {
	articles := make([]Article, 0, len(d.Articles))
	for _, id := range d.Articles {
		a, err := e.Store.Article(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("digest %d: article %d: %w", d.ID, id, err)
		}
		articles = append(articles, a)
	}
	m, err := t.Mailer.Prepare(ctx, d, articles)
	if err != nil {
		return nil, fmt.Errorf("digest %d: render: %w", d.ID, err)
	}
	return m, nil
}

// sendBatch claims a batch, mails the claimed and records the outcomes.
// stop is the server's refusal of the whole batch; err a store failure.
func (e *Engine) sendBatch(ctx context.Context, ds DigestStore, m Mailing, d Digest, subs []Subscriber,
	retry RetryPolicy, counts map[RecipientState]int) (stop, err error) {
	ids := make([]int64, len(subs))
	byID := make(map[int64]Subscriber, len(subs))
	for i, s := range subs {
		ids[i], byID[s.ID] = s.ID, s
	}
	claimed, err := ds.ClaimRecipients(ctx, d.ID, ids, e.owner(), e.now())
	if err != nil {
		return nil, fmt.Errorf("digest %d: claim recipients: %w", d.ID, err)
	}
	// From the claim on, the batch is mailed and recorded even at shutdown.
	sendCtx, cancel := detached(ctx, e.sendTimeout())
	defer cancel()
	var (
		batch   []Subscriber
		sending []Recipient
		records = make([]Recipient, 0, len(claimed)) // to record
		final   []Recipient                          // recorded as they ended
	)
	for _, r := range claimed {
		if r.Attempts > retry.MaxAttempts {
			r.State, r.Attempts, r.UpdatedAt = RecipientFailed, r.Attempts-1, e.now()
			r.LastError = fmt.Sprintf("gave up after %d attempts: %s", r.Attempts, r.LastError)
			records = append(records, r)
			continue
		}
		batch, sending = append(batch, byID[r.SubscriberID]), append(sending, r)
	}
	if len(batch) > 0 {
		claims := make(map[int64]Recipient, len(sending))
		for _, r := range sending {
			claims[r.SubscriberID] = r
		}
		msgs := &messageLog{
			begin: func(ended []Recipient, ids []int64) ([]int64, error) {
				var begun []int64
				err := e.writeThroughBusy(sendCtx, fmt.Sprintf("digest %d: begin messages", d.ID), func(ctx context.Context) error {
					var err error
					begun, err = ds.BeginRecipients(ctx, d.ID, e.owner(), ended, ids)
					return err
				})
				return begun, err
			},
			final: func(s Subscriber, res MailResult) (Recipient, bool) {
				r, ok := claims[s.ID]
				if !ok || (res.State != RecipientSent && res.State != RecipientFailed && res.State != RecipientUncertain) {
					return Recipient{}, false // deferred ones are recorded with the batch, retries counted
				}
				return e.mailRecord(r, res, nil, retry), true
			},
		}
		results, sendErr := m.Send(sendCtx, batch, msgs)
		for i, r := range sending {
			var res MailResult
			if i < len(results) {
				res = results[i]
			}
			rec := e.mailRecord(r, res, sendErr, retry)
			if msgs.isWritten(r.SubscriberID) {
				final = append(final, rec)
				continue
			}
			records = append(records, rec)
		}
		stop = sendErr
	}
	if err := ds.RecordRecipients(sendCtx, records); err != nil {
		return nil, fmt.Errorf("digest %d: record recipients: %w", d.ID, err)
	}
	records = append(records, final...)
	ended := map[RecipientState]int{}
	for _, r := range records {
		counts[r.State]++
		ended[r.State]++
	}
	for _, st := range RecipientStates {
		if ended[st] > 0 {
			e.recipientsEnded(d.ChannelID, st, ended[st])
		}
	}
	return stop, nil
}

// mailRecord is the record of claimed message r after res, sendErr
// being the error that stopped its batch.
func (e *Engine) mailRecord(r Recipient, res MailResult, sendErr error, retry RetryPolicy) Recipient {
	if res.State == "" || res.State == RecipientSending || res.State == RecipientClaimed {
		res = MailResult{State: RecipientDeferred, Err: cmp.Or(sendErr, errNotSent)}
	}
	r.State, r.LastError, r.UpdatedAt = res.State, "", e.now()
	if res.Err != nil {
		r.LastError = res.Err.Error()
	}
	if r.State == RecipientDeferred && r.Attempts >= retry.MaxAttempts {
		r.State, r.LastError = RecipientFailed, fmt.Sprintf("gave up after %d attempts: %s", r.Attempts, r.LastError)
	}
	return r
}

// errNotSent marks a recipient the mailer returned no result for.
var errNotSent = errors.New("not sent")

// recipientsEnded counts n messages of the channel's digests recorded
// in state st, for the report and the observer.
func (e *Engine) recipientsEnded(channelID string, st RecipientState, n int) {
	e.observer().DigestMessages(channelID, st, n)
	s, unlock := e.digestState()
	defer unlock()
	s.ended[st] += n
}

// observeError counts a pass over the channel's digests that ended in
// *err (deferred, so it reads the result).
func (e *Engine) observeError(channelID string, err *error) {
	if *err != nil {
		e.observer().Digested(channelID, DigestError)
	}
}

func (e *Engine) nextRound(id int64) time.Time {
	s, unlock := e.digestState()
	defer unlock()
	return s.rounds[id].next
}

// deferRound spaces the rounds of a digest with deferred recipients.
func (e *Engine) deferRound(id int64, p RetryPolicy) {
	now, jitter := e.now(), e.jitter()
	s, unlock := e.digestState()
	defer unlock()
	r := s.rounds[id]
	r.n++
	r.next = now.Add(p.Backoff(r.n, jitter))
	s.rounds[id] = r
}

func (e *Engine) forgetRounds(id int64) {
	s, unlock := e.digestState()
	defer unlock()
	delete(s.rounds, id)
}

// digestReport adds the digests' outcomes in this process to r.
func (e *Engine) digestReport(r *Report) {
	s, unlock := e.digestState()
	defer unlock()
	r.DigestErrors, r.Recipients = map[string]error{}, map[RecipientState]int{}
	for id, err := range s.errs {
		if err != nil {
			r.DigestErrors[id] = err
		}
	}
	for st, n := range s.ended {
		r.Recipients[st] = n
	}
}

// dryRunDigest says what a due digest would hold, and changes nothing.
func (e *Engine) dryRunDigest(ctx context.Context, t DigestTarget) error {
	articles, err := e.NextDigest(ctx, t.ID)
	if err != nil {
		return err
	}
	if len(articles) == 0 {
		return nil
	}
	e.dryRunf("[dry-run] %s: the next digest to list %q would hold %d articles:\n", t.ID, t.List, len(articles))
	for _, a := range articles {
		e.dryRunf("  %s  %s\n", a.Title, a.Link)
	}
	e.dryRunf("\n")
	return nil
}

// digestLoop checks the digests at start and then every interval, until
// ctx ends.
func (e *Engine) digestLoop(ctx context.Context) {
	if len(e.Digests) == 0 {
		return
	}
	if e.DryRun { // say once what the digests would hold
		_ = e.CheckDigests(ctx, false)
		return
	}
	interval := e.DigestInterval
	if interval <= 0 {
		interval = DefaultDigestInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	wake := e.digestWakes()
	for {
		_ = e.CheckDigests(ctx, false) // logged inside
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-wake:
			// Another process's writes wake this often: a pass at most
			// every digestWakeGap.
			if sleepCtx(ctx, digestWakeGap) != nil {
				return
			}
		}
	}
}

// digestWakeGap is the least time between two passes over the digests
// that wake-ups ask for.
const digestWakeGap = time.Second

func (e *Engine) digestWakes() chan struct{} {
	e.digestWakeOnce.Do(func() { e.digestWake = make(chan struct{}, 1) })
	return e.digestWake
}

// WakeDigests asks a running daemon for a pass over its digests now
// (messages an editor gave back to be mailed, a digest another process
// made), instead of at its next DigestInterval.
func (e *Engine) WakeDigests() {
	select {
	case e.digestWakes() <- struct{}{}:
	default: // one is asked for already
	}
}

// messageLog records the starts of messages sent on several connections
// at once, with the outcomes known since, in as few writes as it can: a
// start asked for while a write is running goes into the next, which takes
// every one waiting and every outcome ended (a group commit). Each Begin
// returns once its own start is stored. As a connection ends a message
// before it begins the next, the next start's write carries that outcome:
// a crash finds at most one message per connection without one.
type messageLog struct {
	begin func(ended []Recipient, ids []int64) (begun []int64, err error)
	// final is the record of an outcome to write with the next start, if
	// it is final (sent, failed, uncertain).
	final func(Subscriber, MailResult) (Recipient, bool)

	mu      sync.Mutex
	writing bool
	waiting []beginRequest
	ended   []Recipient
	written map[int64]bool // subscribers whose outcome is stored
}

type beginRequest struct {
	id   int64
	done chan error
}

func (g *messageLog) Ended(s Subscriber, res MailResult) {
	r, ok := g.final(s, res)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ended = append(g.ended, r)
}

func (g *messageLog) isWritten(id int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.written[id]
}

func (g *messageLog) Begin(s Subscriber) error {
	done := make(chan error, 1)
	g.mu.Lock()
	g.waiting = append(g.waiting, beginRequest{id: s.ID, done: done})
	if g.writing {
		g.mu.Unlock()
		return <-done
	}
	g.writing = true
	for len(g.waiting) > 0 {
		reqs, ended := g.waiting, g.ended
		g.waiting, g.ended = nil, nil
		g.mu.Unlock()
		ids := make([]int64, len(reqs))
		for i, r := range reqs {
			ids[i] = r.id
		}
		begun, err := g.begin(ended, ids)
		ok := make(map[int64]bool, len(begun))
		for _, id := range begun {
			ok[id] = true
		}
		for _, r := range reqs {
			switch {
			case err != nil:
				r.done <- err
			case !ok[r.id]:
				r.done <- fmt.Errorf("subscriber %d: its claim was lost: %w", r.id, ErrConflict)
			default:
				r.done <- nil
			}
		}
		g.mu.Lock()
		if err == nil {
			if g.written == nil {
				g.written = map[int64]bool{}
			}
			for _, r := range ended {
				g.written[r.SubscriberID] = true
			}
		}
	}
	g.writing = false
	g.mu.Unlock()
	return <-done
}
