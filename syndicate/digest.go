package syndicate

import (
	"context"
	"time"
)

// A digest channel (type: email) takes its articles from the delivery
// ledger like any channel — so first sight, backfill, filters, the flood
// guard and the editor's decisions apply — but instead of sending each one
// it gathers the pending ones into one digest per period and mails that
// to every confirmed subscriber of its list.
//
// Exactly once per recipient: a digest is made in one transaction that
// moves its deliveries from pending to sent ("digest:<id>"), and then each
// subscriber of the list has one record of the digest. A batch of
// recipients is claimed ("claimed", under a lease) before it is mailed;
// each message becomes "sending" only as its own SMTP transaction begins,
// and the outcomes are recorded after. A process that stops in between
// leaves at most one message per connection "sending", which the next
// start turns into "uncertain" — never re-sent without an editor — while
// its claims not yet begun go back to the queue (at the next start, or
// when their lease ends). Anyone without a record, or with a "deferred"
// one (a 4xx), is still to be mailed.

// Digest is one issue of a digest channel.
type Digest struct {
	ID        int64
	ChannelID string
	// Period is the schedule's firing this digest belongs to, as wall-clock
	// time in the schedule's zone ("2026-10-25T01:30"), so a schedule that
	// fires twice in the same wall-clock minute (daylight saving fall-back)
	// makes one digest; an @every schedule's is the instant in UTC
	// ("2026-10-25T00:30:00Z"); see PeriodOf. A digest sent on request
	// (digest --now) has a period of its own, "now:" and the instant in UTC.
	Period     string
	Articles   []int64 // article IDs, oldest first
	CreatedAt  time.Time
	FinishedAt time.Time // zero while recipients remain
}

// RecipientState is where one message of a digest stands.
type RecipientState string

const (
	RecipientClaimed   RecipientState = "claimed"   // taken by a process to mail, not begun
	RecipientSending   RecipientState = "sending"   // its SMTP transaction has begun, no answer recorded yet
	RecipientSent      RecipientState = "sent"      // accepted by the server
	RecipientDeferred  RecipientState = "deferred"  // 4xx: tried again later
	RecipientFailed    RecipientState = "failed"    // 5xx: never tried again for this digest
	RecipientUncertain RecipientState = "uncertain" // interrupted in flight: never re-sent silently
)

// RecipientStates lists every state, in the order reports show them.
var RecipientStates = []RecipientState{RecipientClaimed, RecipientSending, RecipientSent, RecipientDeferred, RecipientFailed, RecipientUncertain}

// RecipientClaimLease is how long a claim on recipients holds: a claim not
// begun by then (its process died) goes back to the queue.
const RecipientClaimLease = 10 * time.Minute

// Recipient is the record of one message of a digest.
type Recipient struct {
	DigestID     int64
	SubscriberID int64
	State        RecipientState
	Attempts     int
	LastError    string
	UpdatedAt    time.Time
}

// DigestMessage is the record of one message with its address.
type DigestMessage struct {
	Recipient
	Email string
}

// DigestStore keeps the digests and their per-recipient records. Every
// method is safe for concurrent use, also by several processes.
type DigestStore interface {
	// DigestClock returns when the channel's schedule was last honoured
	// (a digest made, or nothing to send), and the last period made;
	// ok is false for a channel never seen, which then starts its first
	// period at now.
	DigestClock(ctx context.Context, channelID string) (last time.Time, period string, ok bool, err error)
	SetDigestClock(ctx context.Context, channelID string, last time.Time, period string) error
	// CreateDigest records a digest of the channel's pending deliveries
	// (d.Articles) and, in the same transaction, marks those deliveries
	// sent with RemoteID "digest:<id>". Articles whose delivery is no
	// longer pending (an editor skipped it meanwhile) are left out of the
	// stored digest; when none is left, it returns ErrConflict and records
	// nothing. A digest for the same channel and period that already
	// exists is returned instead (created false), and nothing changes.
	// A zero CreatedAt takes the store's clock.
	CreateDigest(ctx context.Context, d Digest) (stored Digest, created bool, err error)
	// Digest returns the digest with that ID, or ErrNotFound.
	Digest(ctx context.Context, id int64) (Digest, error)
	// Digests returns the channel's digests, finished or not, newest
	// first: at most limit of them, or all when limit is zero or less.
	Digests(ctx context.Context, channelID string, limit int) ([]Digest, error)
	// OpenDigests returns the channel's digests not yet finished, oldest
	// first.
	OpenDigests(ctx context.Context, channelID string) ([]Digest, error)
	FinishDigest(ctx context.Context, digestID int64, at time.Time) error
	// Unsent pages through the confirmed subscribers of list that have no
	// record for the digest, or a deferred one, in ID order after afterID.
	// It reads the subscribers' current state: an address unsubscribed a
	// moment ago is not returned.
	Unsent(ctx context.Context, digestID int64, list string, afterID int64, limit int) ([]Subscriber, error)
	// ClaimRecipients records "claimed" by owner until at+RecipientClaimLease,
	// in one transaction, for each of the subscribers that is still
	// confirmed and has no record for the digest, a deferred one, or a
	// claim whose lease has ended, adding one to its attempts; it returns
	// the records it wrote. Only those may be mailed: two processes
	// resuming the same digest never claim the same subscriber.
	ClaimRecipients(ctx context.Context, digestID int64, subscriberIDs []int64, owner string, at time.Time) ([]Recipient, error)
	// BeginRecipients records the outcomes of messages that ended (as
	// RecordRecipients) and moves owner's claimed records to "sending",
	// in one transaction, as the messages' SMTP transactions begin,
	// renewing their lease; it returns the subscribers it moved: one not
	// claimed by owner (any more) is left out. Recording each outcome
	// with the next start is what leaves a crash at most one message per
	// connection in flight.
	BeginRecipients(ctx context.Context, digestID int64, owner string, ended []Recipient, subscriberIDs []int64) ([]int64, error)
	// RecordRecipients writes a batch of records in one transaction
	// (upsert by digest and subscriber).
	RecordRecipients(ctx context.Context, rs []Recipient) error
	// Recipient returns the record of one message, or ErrNotFound.
	Recipient(ctx context.Context, digestID, subscriberID int64) (Recipient, error)
	// SettleInFlight settles the digest's records in flight whose owner
	// has stopped (as stopped tells) or whose lease ended by now: those
	// "sending" become "uncertain", and it returns how many; claims go
	// back to the queue (the record as it was before the claim). Records
	// of a process still running, within their lease, are left alone.
	SettleInFlight(ctx context.Context, digestID int64, now time.Time, stopped func(owner string) bool) (int, error)
	// DigestMessages lists a digest's records in the given states (all
	// when none), with each subscriber's address, in subscriber order.
	DigestMessages(ctx context.Context, digestID int64, states []RecipientState) ([]DigestMessage, error)
	// SetRecipients is an editor's decision on messages of a digest: each
	// record of subscriberIDs in one of the states from moves to state to
	// (RecipientDeferred: mailed again, the digest reopened for it;
	// RecipientSent: recorded as sent), with note as its last error. It
	// returns the subscribers it changed.
	SetRecipients(ctx context.Context, digestID int64, subscriberIDs []int64, from []RecipientState, to RecipientState, note string) ([]int64, error)
	// RecipientCounts counts a digest's records by state.
	RecipientCounts(ctx context.Context, digestID int64) (map[RecipientState]int, error)
}

// DigestResult is what became of a digest, as the Observer counts it.
type DigestResult string

const (
	// DigestSent: a digest finished, every recipient having its final
	// record (sent, failed or uncertain); counted once per digest, by
	// the pass that finishes it.
	DigestSent DigestResult = "sent"
	// DigestEmpty: a digest was due (or asked for now) with no new
	// articles, so none was made.
	DigestEmpty DigestResult = "empty"
	// DigestError: a pass over the channel's digests stopped on an error
	// (the mail server could not be reached, the store failed); what is
	// left is tried again later.
	DigestError DigestResult = "error"
)
