package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

const digestCols = `id, channel_id, period, articles, created_at, finished_at`

func scanDigest(row scanner) (syndicate.Digest, error) {
	var d syndicate.Digest
	var created, finished time.Time
	if err := row.Scan(&d.ID, &d.ChannelID, &d.Period, &d.Articles, &created, &finished); err != nil {
		return syndicate.Digest{}, err
	}
	if len(d.Articles) == 0 {
		d.Articles = nil
	}
	d.CreatedAt, d.FinishedAt = goTime(created), goTime(finished)
	return d, nil
}

func collectDigests(rows pgx.Rows) ([]syndicate.Digest, error) {
	defer rows.Close()
	var out []syndicate.Digest
	for rows.Next() {
		d, err := scanDigest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DigestClock returns the channel's digest clock; ok is false for a
// channel never seen.
func (s *Store) DigestClock(ctx context.Context, channelID string) (time.Time, string, bool, error) {
	var last time.Time
	var period string
	err := s.pool.QueryRow(ctx, `SELECT last_at, period FROM digest_clocks WHERE channel_id = $1`, channelID).
		Scan(&last, &period)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, "", false, nil
	}
	if err != nil {
		return time.Time{}, "", false, fmt.Errorf("read digest clock of channel %q: %w", channelID, s.busy(ctx, err))
	}
	return goTime(last), period, true, nil
}

// SetDigestClock sets the channel's digest clock.
func (s *Store) SetDigestClock(ctx context.Context, channelID string, last time.Time, period string) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO digest_clocks (channel_id, last_at, period) VALUES ($1, $2, $3)
		ON CONFLICT (channel_id) DO UPDATE SET last_at = excluded.last_at, period = excluded.period`,
		channelID, last, period)
	if err != nil {
		return fmt.Errorf("set digest clock of channel %q: %w", channelID, s.busy(ctx, err))
	}
	return nil
}

// CreateDigest records a digest and moves its deliveries from pending to
// sent in one transaction; see syndicate.DigestStore.
//
// The deliveries are locked (FOR UPDATE) as they are read, so an editor's
// decision or another digest made at the same time either comes first,
// and the article is left out, or waits for this one. The digest row is
// inserted with ON CONFLICT DO NOTHING on (channel, period): when another
// process made the digest of that period meanwhile, its digest is
// returned and nothing is written.
func (s *Store) CreateDigest(ctx context.Context, d syndicate.Digest) (syndicate.Digest, bool, error) {
	if d.ChannelID == "" || d.Period == "" {
		return syndicate.Digest{}, false, errors.New("create digest: empty channel or period")
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.now()
	}
	var (
		stored  syndicate.Digest
		created bool
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		stored, created = syndicate.Digest{}, false
		existing, err := scanDigest(tx.QueryRow(ctx,
			`SELECT `+digestCols+` FROM digests WHERE channel_id = $1 AND period = $2`, d.ChannelID, d.Period))
		if err == nil {
			stored = existing
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}

		rows, err := tx.Query(ctx, `SELECT article_id FROM deliveries
			WHERE channel_id = $1 AND state = 'pending' AND article_id = ANY($2::bigint[])
			ORDER BY id FOR UPDATE`, d.ChannelID, d.Articles)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		pending := make(map[int64]bool, len(ids))
		for _, id := range ids {
			pending[id] = true
		}
		var kept []int64
		for _, id := range d.Articles {
			if pending[id] {
				kept = append(kept, id)
				delete(pending, id) // an article named twice is kept once
			}
		}
		if len(kept) == 0 {
			return syndicate.ErrConflict
		}

		nd := d
		nd.Articles, nd.FinishedAt = kept, time.Time{}
		err = tx.QueryRow(ctx, `
			INSERT INTO digests (channel_id, period, articles, created_at, finished_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (channel_id, period) DO NOTHING
			RETURNING id`,
			nd.ChannelID, nd.Period, kept, nd.CreatedAt, time.Time{}).Scan(&nd.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			// Made by another process since the first look: that one.
			stored, err = scanDigest(tx.QueryRow(ctx,
				`SELECT `+digestCols+` FROM digests WHERE channel_id = $1 AND period = $2`, d.ChannelID, d.Period))
			return err
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries
			SET state = 'sent', remote_id = $1, remote_url = '', last_error = '', updated_at = $2
			WHERE channel_id = $3 AND state = 'pending' AND article_id = ANY($4::bigint[])`,
			"digest:"+strconv.FormatInt(nd.ID, 10), s.now(), nd.ChannelID, kept); err != nil {
			return err
		}
		stored, created = nd, true
		return nil
	}, changedDigest)
	if err != nil {
		return syndicate.Digest{}, false, fmt.Errorf("create digest of channel %q for %s: %w", d.ChannelID, d.Period, err)
	}
	return stored, created, nil
}

// Digest returns the digest with that ID, or ErrNotFound.
func (s *Store) Digest(ctx context.Context, id int64) (syndicate.Digest, error) {
	d, err := scanDigest(s.pool.QueryRow(ctx, `SELECT `+digestCols+` FROM digests WHERE id = $1`, id))
	if err != nil {
		return syndicate.Digest{}, fmt.Errorf("read digest %d: %w", id, s.busy(ctx, notFound(err)))
	}
	return d, nil
}

// Digests returns the channel's digests, newest first (the largest id);
// at most limit of them, or all when limit is zero or less.
func (s *Store) Digests(ctx context.Context, channelID string, limit int) ([]syndicate.Digest, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+digestCols+` FROM digests
		WHERE channel_id = $1 ORDER BY id DESC LIMIT $2`, channelID, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("digests of channel %q: %w", channelID, s.busy(ctx, err))
	}
	out, err := collectDigests(rows)
	if err != nil {
		return nil, fmt.Errorf("digests of channel %q: %w", channelID, s.busy(ctx, err))
	}
	return out, nil
}

// OpenDigests returns the channel's unfinished digests, oldest first.
func (s *Store) OpenDigests(ctx context.Context, channelID string) ([]syndicate.Digest, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+digestCols+` FROM digests
		WHERE channel_id = $1 AND finished_at = $2 ORDER BY id`, channelID, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("open digests of channel %q: %w", channelID, s.busy(ctx, err))
	}
	out, err := collectDigests(rows)
	if err != nil {
		return nil, fmt.Errorf("open digests of channel %q: %w", channelID, s.busy(ctx, err))
	}
	return out, nil
}

// FinishDigest marks the digest finished at the given time.
func (s *Store) FinishDigest(ctx context.Context, digestID int64, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	tag, err := s.pool.Exec(ctx, `UPDATE digests SET finished_at = $1 WHERE id = $2`, at, digestID)
	if err == nil && tag.RowsAffected() == 0 {
		err = syndicate.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("finish digest %d: %w", digestID, s.busy(ctx, err))
	}
	return nil
}

// Unsent pages through the confirmed subscribers of list not yet mailed
// the digest (no record, or a deferred one), in ID order after afterID.
// A limit of zero or less means no limit.
//
// Each subscriber's record is looked up by primary key in a scalar
// subquery, which PostgreSQL runs per row and never turns into a join:
// as a join, once statistics say the digest has no records (autovacuum
// analyses the table as a digest starts), it is planned as a merge join
// that sorts all of the digest's records at every batch, quadratic over
// a digest.
func (s *Store) Unsent(ctx context.Context, digestID int64, list string, afterID int64, limit int) ([]syndicate.Subscriber, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT s.id, s.list, s.email, s.name, s.state, s.created_at, s.confirmed_at, s.unsubscribed_at
		FROM subscribers s
		WHERE s.list = $2 AND s.state = 'confirmed' AND s.id > $3
			AND coalesce((
				SELECT r.state = 'deferred' OR (r.state = 'claimed' AND r.claimed_until <= $5)
				FROM digest_recipients r WHERE r.digest_id = $1 AND r.subscriber_id = s.id), true)
		ORDER BY s.id
		LIMIT $4`, digestID, list, afterID, limitArg(limit), s.now())
	if err != nil {
		return nil, fmt.Errorf("unsent recipients of digest %d: %w", digestID, s.busy(ctx, err))
	}
	out, err := collectSubscribers(rows)
	if err != nil {
		return nil, fmt.Errorf("unsent recipients of digest %d: %w", digestID, s.busy(ctx, err))
	}
	return out, nil
}

const recipientCols = `digest_id, subscriber_id, state, attempts, last_error, updated_at`

func scanRecipient(row scanner) (syndicate.Recipient, error) {
	var r syndicate.Recipient
	var state string
	var updated time.Time
	if err := row.Scan(&r.DigestID, &r.SubscriberID, &state, &r.Attempts, &r.LastError, &updated); err != nil {
		return syndicate.Recipient{}, err
	}
	r.State, r.UpdatedAt = syndicate.RecipientState(state), goTime(updated)
	return r, nil
}

// ClaimRecipients records "claimed", until at+RecipientClaimLease, for
// those of the subscribers still confirmed that have no record of the
// digest, a deferred one, or a claim whose lease has ended, and returns
// the records written, in subscriber order.
//
// One statement claims the whole batch, in subscriber order: two
// processes claiming overlapping batches take their row locks in the same
// order, so one waits for the other instead of deadlocking, and then
// finds those records no longer deferred or absent.
func (s *Store) ClaimRecipients(ctx context.Context, digestID int64, subscriberIDs []int64, owner string, at time.Time) ([]syndicate.Recipient, error) {
	if at.IsZero() {
		at = s.now()
	}
	if len(subscriberIDs) == 0 {
		return nil, nil
	}
	var out []syndicate.Recipient
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			INSERT INTO digest_recipients AS r (digest_id, subscriber_id, state, attempts, last_error, updated_at, claimed_until, owner)
			SELECT $1::bigint, s.id, 'claimed', 1, '', $2::timestamptz, $4::timestamptz, $5::text FROM subscribers s
			WHERE s.state = 'confirmed' AND s.id = ANY($3::bigint[])
			ORDER BY s.id
			ON CONFLICT (digest_id, subscriber_id) DO UPDATE SET
				state = 'claimed', attempts = r.attempts + 1, updated_at = excluded.updated_at,
				claimed_until = excluded.claimed_until, owner = excluded.owner
			WHERE r.state = 'deferred' OR (r.state = 'claimed' AND r.claimed_until <= $2::timestamptz)
			RETURNING `+recipientCols, digestID, at, subscriberIDs, at.Add(syndicate.RecipientClaimLease), owner)
		if err != nil {
			return err
		}
		out, err = collectRecipients(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim recipients of digest %d: %w", digestID, err)
	}
	sortRecipients(out)
	return out, nil
}

func collectRecipients(rows pgx.Rows) ([]syndicate.Recipient, error) {
	defer rows.Close()
	var out []syndicate.Recipient
	for rows.Next() {
		r, err := scanRecipient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RecordRecipients writes the records in one transaction (upsert by
// digest and subscriber). A zero UpdatedAt takes the store's clock.
//
// The whole batch is one statement over arrays. PostgreSQL refuses to
// upsert one row twice in a statement, so of records naming the same
// message only the last is sent: the last wins, as if applied in order.
func (s *Store) RecordRecipients(ctx context.Context, rs []syndicate.Recipient) error {
	if len(rs) == 0 {
		return nil
	}
	for _, r := range rs {
		if !validRecipientState(r.State) {
			return fmt.Errorf("record digest recipients: digest %d, subscriber %d: unknown state %q", r.DigestID, r.SubscriberID, r.State)
		}
	}
	if err := s.recordRecipients(ctx, s.pool, rs); err != nil {
		return fmt.Errorf("record digest recipients: %w", s.busy(ctx, err))
	}
	return nil
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// recordRecipients upserts the records, valid ones, through q.
func (s *Store) recordRecipients(ctx context.Context, q execer, rs []syndicate.Recipient) error {
	type msg struct{ digest, subscriber int64 }
	last := make(map[msg]int, len(rs))
	for i, r := range rs {
		last[msg{r.DigestID, r.SubscriberID}] = i
	}
	batch := make([]syndicate.Recipient, 0, len(last))
	for i, r := range rs {
		if last[msg{r.DigestID, r.SubscriberID}] == i {
			batch = append(batch, r)
		}
	}
	// In key order: concurrent batches lock their rows in the same order.
	slices.SortFunc(batch, func(a, b syndicate.Recipient) int {
		return cmp.Or(cmp.Compare(a.DigestID, b.DigestID), cmp.Compare(a.SubscriberID, b.SubscriberID))
	})
	now := s.now()
	var (
		digests     = make([]int64, len(batch))
		subscribers = make([]int64, len(batch))
		states      = make([]string, len(batch))
		attempts    = make([]int64, len(batch))
		lastErrors  = make([]string, len(batch))
		updated     = make([]time.Time, len(batch))
	)
	for i, r := range batch {
		digests[i], subscribers[i], states[i] = r.DigestID, r.SubscriberID, string(r.State)
		attempts[i], lastErrors[i], updated[i] = int64(r.Attempts), r.LastError, r.UpdatedAt
		if r.UpdatedAt.IsZero() {
			updated[i] = now
		}
	}
	_, err := q.Exec(ctx, `
		INSERT INTO digest_recipients (digest_id, subscriber_id, state, attempts, last_error, updated_at)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
		ON CONFLICT (digest_id, subscriber_id) DO UPDATE SET
			state = excluded.state, attempts = excluded.attempts,
			last_error = excluded.last_error, updated_at = excluded.updated_at`,
		digests, subscribers, states, attempts, lastErrors, updated)
	if err != nil {
		return fmt.Errorf("%d records, digest %d first: %w", len(batch), batch[0].DigestID, err)
	}
	return nil
}

func validRecipientState(st syndicate.RecipientState) bool {
	switch st {
	case syndicate.RecipientClaimed, syndicate.RecipientSending, syndicate.RecipientSent, syndicate.RecipientDeferred,
		syndicate.RecipientFailed, syndicate.RecipientUncertain:
		return true
	}
	return false
}

// settledError is the last error of a message a crash left in flight.
const settledError = "interrupted while the message was with the mail server; not sent again"

// BeginRecipients records the outcomes ended and moves owner's claimed
// records to "sending", in one transaction, as the messages' SMTP
// transactions begin, renewing their lease, and returns the subscribers
// it moved, in order: one not claimed by owner (any more) is left out.
func (s *Store) BeginRecipients(ctx context.Context, digestID int64, owner string, ended []syndicate.Recipient, subscriberIDs []int64) ([]int64, error) {
	for _, r := range ended {
		if !validRecipientState(r.State) {
			return nil, fmt.Errorf("begin messages of digest %d: subscriber %d ended in unknown state %q", digestID, r.SubscriberID, r.State)
		}
	}
	now := s.now()
	var begun []int64
	begin := func(q interface {
		execer
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	}) error {
		if len(ended) > 0 {
			if err := s.recordRecipients(ctx, q, ended); err != nil {
				return err
			}
		}
		if len(subscriberIDs) == 0 {
			return nil
		}
		rows, err := q.Query(ctx, `UPDATE digest_recipients SET state = 'sending', updated_at = $1, claimed_until = $5
			WHERE digest_id = $2 AND subscriber_id = ANY($3::bigint[]) AND state = 'claimed' AND owner = $4
			RETURNING subscriber_id`, now, digestID, subscriberIDs, owner, now.Add(syndicate.RecipientClaimLease))
		if err != nil {
			return err
		}
		begun, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	}
	var err error
	if len(ended) == 0 {
		err = begin(s.pool) // one statement: no transaction needed
	} else {
		err = s.tx(ctx, func(tx pgx.Tx) error { return begin(tx) })
	}
	if err != nil {
		return nil, fmt.Errorf("begin messages of digest %d: %w", digestID, s.busy(ctx, err))
	}
	slices.Sort(begun)
	return begun, nil
}

// SettleInFlight settles, in one transaction, the digest's records in
// flight whose owner has stopped or whose lease ended by now: "sending"
// ones become "uncertain"; a claim's record goes back to what it was
// (deferred, with the attempt the claim counted taken back, or none).
func (s *Store) SettleInFlight(ctx context.Context, digestID int64, now time.Time, stopped func(owner string) bool) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT owner FROM digest_recipients
			WHERE digest_id = $1 AND state IN ('claimed', 'sending')`, digestID)
		if err != nil {
			return err
		}
		owners, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		gone := slices.DeleteFunc(owners, func(o string) bool { return !stopped(o) })
		if gone == nil {
			gone = []string{} // an empty array, not NULL
		}
		const settle = ` AND (claimed_until <= $2 OR owner = ANY($3::text[]))`
		tag, err := tx.Exec(ctx, `UPDATE digest_recipients SET state = 'uncertain', last_error = $4, updated_at = $2
			WHERE digest_id = $1 AND state = 'sending'`+settle, digestID, now, gone, settledError)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM digest_recipients
			WHERE digest_id = $1 AND state = 'claimed' AND attempts <= 1`+settle, digestID, now, gone); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE digest_recipients
			SET state = 'deferred', attempts = attempts - 1, claimed_until = $4
			WHERE digest_id = $1 AND state = 'claimed'`+settle, digestID, now, gone, time.Time{})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("settle digest %d: %w", digestID, err)
	}
	return int(n), nil
}

// RecipientCounts counts the digest's records by state.
func (s *Store) RecipientCounts(ctx context.Context, digestID int64) (map[syndicate.RecipientState]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT state, COUNT(*) FROM digest_recipients
		WHERE digest_id = $1 GROUP BY state`, digestID)
	if err != nil {
		return nil, fmt.Errorf("count recipients of digest %d: %w", digestID, s.busy(ctx, err))
	}
	defer rows.Close()
	counts := map[syndicate.RecipientState]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count recipients of digest %d: %w", digestID, err)
		}
		counts[syndicate.RecipientState(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count recipients of digest %d: %w", digestID, s.busy(ctx, err))
	}
	return counts, nil
}

// Recipient returns the record of one message, or ErrNotFound.
func (s *Store) Recipient(ctx context.Context, digestID, subscriberID int64) (syndicate.Recipient, error) {
	r, err := scanRecipient(s.pool.QueryRow(ctx, `SELECT `+recipientCols+` FROM digest_recipients
		WHERE digest_id = $1 AND subscriber_id = $2`, digestID, subscriberID))
	if err != nil {
		return syndicate.Recipient{}, fmt.Errorf("recipient %d of digest %d: %w", subscriberID, digestID, s.busy(ctx, notFound(err)))
	}
	return r, nil
}

// sortRecipients puts records in subscriber order (RETURNING promises
// none).
func sortRecipients(rs []syndicate.Recipient) {
	slices.SortFunc(rs, func(a, b syndicate.Recipient) int { return cmp.Compare(a.SubscriberID, b.SubscriberID) })
}

// DigestMessages lists the digest's records in states (all when none),
// with the subscribers' addresses, in subscriber order.
func (s *Store) DigestMessages(ctx context.Context, digestID int64, states []syndicate.RecipientState) ([]syndicate.DigestMessage, error) {
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	rows, err := s.pool.Query(ctx, `SELECT r.digest_id, r.subscriber_id, r.state, r.attempts, r.last_error, r.updated_at, s.email
		FROM digest_recipients r JOIN subscribers s ON s.id = r.subscriber_id
		WHERE r.digest_id = $1 AND (cardinality($2::text[]) = 0 OR r.state = ANY($2::text[]))
		ORDER BY r.subscriber_id`, digestID, names)
	if err != nil {
		return nil, fmt.Errorf("messages of digest %d: %w", digestID, s.busy(ctx, err))
	}
	defer rows.Close()
	var out []syndicate.DigestMessage
	for rows.Next() {
		var m syndicate.DigestMessage
		var state string
		var updated time.Time
		if err := rows.Scan(&m.DigestID, &m.SubscriberID, &state, &m.Attempts, &m.LastError, &updated, &m.Email); err != nil {
			return nil, fmt.Errorf("messages of digest %d: %w", digestID, err)
		}
		m.State, m.UpdatedAt = syndicate.RecipientState(state), goTime(updated)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("messages of digest %d: %w", digestID, s.busy(ctx, err))
	}
	return out, nil
}

// SetRecipients applies an editor's decision to messages of the digest;
// moving any to deferred reopens the digest, so it is mailed again.
func (s *Store) SetRecipients(ctx context.Context, digestID int64, subscriberIDs []int64, from []syndicate.RecipientState,
	to syndicate.RecipientState, note string) ([]int64, error) {
	if to != syndicate.RecipientDeferred && to != syndicate.RecipientSent {
		return nil, fmt.Errorf("set messages of digest %d: an editor moves them to deferred or sent, not %q", digestID, to)
	}
	if len(from) == 0 || len(subscriberIDs) == 0 {
		return nil, nil
	}
	names := make([]string, len(from))
	for i, st := range from {
		names[i] = string(st)
	}
	var changed []int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		changed = changed[:0]
		rows, err := tx.Query(ctx, `UPDATE digest_recipients SET state = $1, last_error = $2, updated_at = $3
			WHERE digest_id = $4 AND state = ANY($5::text[]) AND subscriber_id = ANY($6::bigint[])
			RETURNING subscriber_id`, string(to), note, s.now(), digestID, names, subscriberIDs)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			changed = append(changed, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if to == syndicate.RecipientDeferred && len(changed) > 0 {
			_, err := tx.Exec(ctx, `UPDATE digests SET finished_at = $1 WHERE id = $2`, time.Time{}, digestID)
			return err
		}
		return nil
	}, changedDigest)
	if err != nil {
		return nil, fmt.Errorf("set messages of digest %d to %s: %w", digestID, to, err)
	}
	slices.Sort(changed)
	return changed, nil
}
