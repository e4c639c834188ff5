package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var _ syndicate.DigestStore = (*Store)(nil)

const digestCols = `id, channel_id, period, articles, created_at, finished_at`

func scanDigest(row scanner) (syndicate.Digest, error) {
	var d syndicate.Digest
	var articles string
	var created, finished int64
	if err := row.Scan(&d.ID, &d.ChannelID, &d.Period, &articles, &created, &finished); err != nil {
		return syndicate.Digest{}, err
	}
	if err := json.Unmarshal([]byte(articles), &d.Articles); err != nil {
		return syndicate.Digest{}, fmt.Errorf("articles of digest %d: %w", d.ID, err)
	}
	if len(d.Articles) == 0 {
		d.Articles = nil
	}
	d.CreatedAt, d.FinishedAt = goTime(created), goTime(finished)
	return d, nil
}

// DigestClock returns the channel's digest clock; ok is false for a
// channel never seen.
func (s *Store) DigestClock(ctx context.Context, channelID string) (time.Time, string, bool, error) {
	var last int64
	var period string
	err := s.r.QueryRowContext(ctx, `SELECT last_at, period FROM digest_clocks WHERE channel_id = ?`, channelID).
		Scan(&last, &period)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, "", false, nil
	}
	if err != nil {
		return time.Time{}, "", false, fmt.Errorf("read digest clock of channel %q: %w", channelID, err)
	}
	return goTime(last), period, true, nil
}

// SetDigestClock sets the channel's digest clock.
func (s *Store) SetDigestClock(ctx context.Context, channelID string, last time.Time, period string) error {
	_, err := s.w.ExecContext(ctx, `
		INSERT INTO digest_clocks (channel_id, last_at, period) VALUES (?, ?, ?)
		ON CONFLICT (channel_id) DO UPDATE SET last_at = excluded.last_at, period = excluded.period`,
		channelID, dbTime(last), period)
	if err != nil {
		return fmt.Errorf("set digest clock of channel %q: %w", channelID, err)
	}
	return nil
}

// CreateDigest records a digest and moves its deliveries from pending to
// sent in one transaction; see syndicate.DigestStore.
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
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		existing, err := scanDigest(tx.QueryRowContext(ctx,
			`SELECT `+digestCols+` FROM digests WHERE channel_id = ? AND period = ?`, d.ChannelID, d.Period))
		if err == nil {
			stored = existing
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}

		pending := map[int64]bool{}
		for _, chunk := range int64Chunks(d.Articles) {
			args := append([]any{d.ChannelID}, int64Args(chunk)...)
			rows, err := tx.QueryContext(ctx, `SELECT article_id FROM deliveries
				WHERE channel_id = ? AND state = 'pending' AND article_id IN (`+placeholders(len(chunk))+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				pending[id] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
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
		d.Articles = kept
		list, err := json.Marshal(kept)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO digests (channel_id, period, articles, created_at, finished_at) VALUES (?, ?, ?, ?, ?)`,
			d.ChannelID, d.Period, string(list), dbTime(d.CreatedAt), dbTime(time.Time{}))
		if err != nil {
			return err
		}
		if d.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		d.FinishedAt = time.Time{}
		for _, chunk := range int64Chunks(kept) {
			args := append([]any{"digest:" + strconv.FormatInt(d.ID, 10), dbTime(s.now()), d.ChannelID}, int64Args(chunk)...)
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries
				SET state = 'sent', remote_id = ?, remote_url = '', last_error = '', updated_at = ?
				WHERE channel_id = ? AND state = 'pending' AND article_id IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
				return err
			}
		}
		stored, created = d, true
		return nil
	})
	if err != nil {
		return syndicate.Digest{}, false, fmt.Errorf("create digest of channel %q for %s: %w", d.ChannelID, d.Period, err)
	}
	return stored, created, nil
}

// Digest returns the digest with that ID, or ErrNotFound.
func (s *Store) Digest(ctx context.Context, id int64) (syndicate.Digest, error) {
	d, err := scanDigest(s.r.QueryRowContext(ctx, `SELECT `+digestCols+` FROM digests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = syndicate.ErrNotFound
	}
	if err != nil {
		return syndicate.Digest{}, fmt.Errorf("read digest %d: %w", id, err)
	}
	return d, nil
}

// Digests returns the channel's digests, newest first; at most limit of
// them, or all when limit is zero or less.
func (s *Store) Digests(ctx context.Context, channelID string, limit int) ([]syndicate.Digest, error) {
	if limit <= 0 {
		limit = -1
	}
	// Ids grow with time (AUTOINCREMENT): the newest has the largest.
	rows, err := s.r.QueryContext(ctx, `SELECT `+digestCols+` FROM digests
		WHERE channel_id = ? ORDER BY id DESC LIMIT ?`, channelID, limit)
	if err != nil {
		return nil, fmt.Errorf("digests of channel %q: %w", channelID, err)
	}
	defer rows.Close()
	var out []syndicate.Digest
	for rows.Next() {
		d, err := scanDigest(rows)
		if err != nil {
			return nil, fmt.Errorf("digests of channel %q: %w", channelID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("digests of channel %q: %w", channelID, err)
	}
	return out, nil
}

// OpenDigests returns the channel's unfinished digests, oldest first.
func (s *Store) OpenDigests(ctx context.Context, channelID string) ([]syndicate.Digest, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+digestCols+` FROM digests
		WHERE channel_id = ? AND finished_at = ? ORDER BY id`, channelID, dbTime(time.Time{}))
	if err != nil {
		return nil, fmt.Errorf("open digests of channel %q: %w", channelID, err)
	}
	defer rows.Close()
	var out []syndicate.Digest
	for rows.Next() {
		d, err := scanDigest(rows)
		if err != nil {
			return nil, fmt.Errorf("open digests of channel %q: %w", channelID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("open digests of channel %q: %w", channelID, err)
	}
	return out, nil
}

// FinishDigest marks the digest finished at the given time.
func (s *Store) FinishDigest(ctx context.Context, digestID int64, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	res, err := s.w.ExecContext(ctx, `UPDATE digests SET finished_at = ? WHERE id = ?`, dbTime(at), digestID)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = syndicate.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("finish digest %d: %w", digestID, err)
	}
	return nil
}

// Unsent pages through the confirmed subscribers of list not yet mailed
// the digest (no record, or a deferred one), in ID order after afterID.
// A limit of zero or less means no limit.
func (s *Store) Unsent(ctx context.Context, digestID int64, list string, afterID int64, limit int) ([]syndicate.Subscriber, error) {
	if limit <= 0 {
		limit = -1
	}
	// The walk follows subscribers_list_state in id order and looks each
	// one up in digest_recipients by its primary key.
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+subscriberColsAs("s")+`
		FROM subscribers s
		LEFT JOIN digest_recipients r ON r.digest_id = ? AND r.subscriber_id = s.id
		WHERE s.list = ? AND s.state = 'confirmed' AND s.id > ?
			AND (r.state IS NULL OR r.state = 'deferred' OR (r.state = 'claimed' AND r.claimed_until <= ?))
		ORDER BY s.id
		LIMIT ?`, digestID, list, afterID, dbTime(s.now()), limit)
	if err != nil {
		return nil, fmt.Errorf("unsent recipients of digest %d: %w", digestID, err)
	}
	defer rows.Close()
	var out []syndicate.Subscriber
	for rows.Next() {
		sub, err := scanSubscriber(rows)
		if err != nil {
			return nil, fmt.Errorf("unsent recipients of digest %d: %w", digestID, err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unsent recipients of digest %d: %w", digestID, err)
	}
	return out, nil
}

const recipientCols = `digest_id, subscriber_id, state, attempts, last_error, updated_at`

func scanRecipient(row scanner) (syndicate.Recipient, error) {
	var r syndicate.Recipient
	var state string
	var updated int64
	if err := row.Scan(&r.DigestID, &r.SubscriberID, &state, &r.Attempts, &r.LastError, &updated); err != nil {
		return syndicate.Recipient{}, err
	}
	r.State, r.UpdatedAt = syndicate.RecipientState(state), goTime(updated)
	return r, nil
}

// ClaimRecipients records "claimed" by owner for those of the subscribers
// still confirmed that have no record of the digest, a deferred one or a
// claim whose lease ended, and returns the records written, in subscriber
// order.
func (s *Store) ClaimRecipients(ctx context.Context, digestID int64, subscriberIDs []int64, owner string, at time.Time) ([]syndicate.Recipient, error) {
	if at.IsZero() {
		at = s.now()
	}
	var out []syndicate.Recipient
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		for _, chunk := range int64Chunks(subscriberIDs) {
			// The SELECT has a WHERE, which keeps SQLite from reading
			// ON CONFLICT as a join constraint.
			args := append([]any{digestID, dbTime(at), dbTime(at.Add(syndicate.RecipientClaimLease)), owner}, int64Args(chunk)...)
			rows, err := tx.QueryContext(ctx, `
				INSERT INTO digest_recipients (digest_id, subscriber_id, state, attempts, last_error, updated_at, claimed_until, owner)
				SELECT ?1, s.id, 'claimed', 1, '', ?2, ?3, ?4 FROM subscribers s
				WHERE s.state = 'confirmed' AND s.id IN (`+numbered(5, len(chunk))+`)
				ON CONFLICT (digest_id, subscriber_id) DO UPDATE SET
					state = 'claimed', attempts = digest_recipients.attempts + 1, updated_at = excluded.updated_at,
					claimed_until = excluded.claimed_until, owner = excluded.owner
				WHERE digest_recipients.state = 'deferred'
					OR (digest_recipients.state = 'claimed' AND digest_recipients.claimed_until <= ?2)
				RETURNING `+recipientCols, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				r, err := scanRecipient(rows)
				if err != nil {
					rows.Close()
					return err
				}
				out = append(out, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim recipients of digest %d: %w", digestID, err)
	}
	sortRecipients(out)
	return out, nil
}

// RecordRecipients writes the records in one transaction. A zero
// UpdatedAt takes the store's clock.
//
// The records go in multi-row upserts of recordRows at a time, not one
// statement each: a digest records every one of its messages, and the
// statement's own cost was most of the store's share of a message.
func (s *Store) RecordRecipients(ctx context.Context, rs []syndicate.Recipient) error {
	if len(rs) == 0 {
		return nil
	}
	for _, r := range rs {
		if !validRecipientState(r.State) {
			return fmt.Errorf("record digest recipients: digest %d, subscriber %d: unknown state %q", r.DigestID, r.SubscriberID, r.State)
		}
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error { return s.recordTx(ctx, tx, rs, dbTime(s.now())) })
	if err != nil {
		return fmt.Errorf("record digest recipients: %w", err)
	}
	return nil
}

// recordTx upserts the records, valid ones, in tx.
func (s *Store) recordTx(ctx context.Context, tx *sql.Tx, rs []syndicate.Recipient, now int64) error {
	args := make([]any, 0, 6*min(len(rs), recordRows))
	for chunk := range slices.Chunk(rs, recordRows) {
		args = args[:0]
		for _, r := range chunk {
			updated := now
			if !r.UpdatedAt.IsZero() {
				updated = dbTime(r.UpdatedAt)
			}
			args = append(args, r.DigestID, r.SubscriberID, string(r.State), r.Attempts, r.LastError, updated)
		}
		// Rows that name the same message apply in order: the last wins.
		if _, err := s.writer(tx).ExecContext(ctx, recordQuery(len(chunk)), args...); err != nil {
			return fmt.Errorf("digest %d, subscribers %d to %d: %w", chunk[0].DigestID,
				chunk[0].SubscriberID, chunk[len(chunk)-1].SubscriberID, err)
		}
	}
	return nil
}

// recordQuery writes n records (6 parameters each), replacing those there.
func recordQuery(n int) string {
	return `INSERT INTO digest_recipients (digest_id, subscriber_id, state, attempts, last_error, updated_at)
		VALUES ` + recordValues(n) + `
		ON CONFLICT (digest_id, subscriber_id) DO UPDATE SET
			state = excluded.state, attempts = excluded.attempts,
			last_error = excluded.last_error, updated_at = excluded.updated_at`
}

// recordRows is how many records one statement of RecordRecipients
// writes: 6 parameters each, well under SQLite's 32,766.
const recordRows = 200

// recordValues returns "(?, ?, ?, ?, ?, ?), …" for n rows.
func recordValues(n int) string {
	const row = "(?, ?, ?, ?, ?, ?)"
	var b strings.Builder
	b.Grow(n * (len(row) + 2))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
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
// records to "sending", renewing their lease, in one transaction, and
// returns the subscribers it moved.
func (s *Store) BeginRecipients(ctx context.Context, digestID int64, owner string, ended []syndicate.Recipient, subscriberIDs []int64) ([]int64, error) {
	for _, r := range ended {
		if !validRecipientState(r.State) {
			return nil, fmt.Errorf("begin messages of digest %d: subscriber %d ended in unknown state %q", digestID, r.SubscriberID, r.State)
		}
	}
	var begun []int64
	now := s.now()
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if len(ended) > 0 {
			if err := s.recordTx(ctx, tx, ended, dbTime(now)); err != nil {
				return err
			}
		}
		for _, chunk := range int64Chunks(subscriberIDs) {
			args := append([]any{dbTime(now), digestID, owner, dbTime(now.Add(syndicate.RecipientClaimLease))}, int64Args(chunk)...)
			rows, err := s.writer(tx).QueryContext(ctx, beginQuery(len(chunk)), args...)
			if err != nil {
				return err
			}
			ids, err := scanIDs(rows)
			if err != nil {
				return err
			}
			begun = append(begun, ids...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("begin messages of digest %d: %w", digestID, err)
	}
	return begun, nil
}

// beginQuery marks n claimed messages as being sent: ?1 now, ?2 the
// digest, ?3 the owner, ?4 the lease's end, ?5… the subscribers.
func beginQuery(n int) string {
	return `UPDATE digest_recipients SET state = 'sending', updated_at = ?1, claimed_until = ?4
		WHERE digest_id = ?2 AND state = 'claimed' AND owner = ?3 AND subscriber_id IN (` + numbered(5, n) + `)
		RETURNING subscriber_id`
}

// SettleInFlight settles the digest's records in flight whose owner has
// stopped or whose lease ended by now: "sending" ones become "uncertain";
// a claim's record goes back to what it was (deferred, with the attempt
// the claim counted taken back, or none).
func (s *Store) SettleInFlight(ctx context.Context, digestID int64, now time.Time, stopped func(owner string) bool) (int, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT owner FROM digest_recipients
			WHERE digest_id = ? AND state IN ('claimed', 'sending')`, digestID)
		if err != nil {
			return err
		}
		var owners []any
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return err
			}
			if stopped(o) {
				owners = append(owners, o)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(owners) == 0 {
			owners = append(owners, "") // an empty list is not SQL; an ownerless claim would be listed above
		}
		// ?1 the digest, ?2 now, ?3… the stopped owners.
		settle := ` AND (claimed_until <= ?2 OR owner IN (` + numbered(3, len(owners)) + `))`
		args := append([]any{digestID, dbTime(now)}, owners...)
		last := "?" + strconv.Itoa(len(args)+1)
		res, err := tx.ExecContext(ctx, `UPDATE digest_recipients SET state = 'uncertain', last_error = `+last+`,
			updated_at = ?2 WHERE digest_id = ?1 AND state = 'sending'`+settle, append(args, settledError)...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM digest_recipients
			WHERE digest_id = ?1 AND state = 'claimed' AND attempts <= 1`+settle, args...); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE digest_recipients SET state = 'deferred', attempts = attempts - 1, claimed_until = 0
			WHERE digest_id = ?1 AND state = 'claimed'`+settle, args...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("settle digest %d: %w", digestID, err)
	}
	return int(n), nil
}

// RecipientCounts counts the digest's records by state.
func (s *Store) RecipientCounts(ctx context.Context, digestID int64) (map[syndicate.RecipientState]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM digest_recipients
		WHERE digest_id = ? GROUP BY state`, digestID)
	if err != nil {
		return nil, fmt.Errorf("count recipients of digest %d: %w", digestID, err)
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
		return nil, fmt.Errorf("count recipients of digest %d: %w", digestID, err)
	}
	return counts, nil
}

// Recipient returns the record of one message, or ErrNotFound.
func (s *Store) Recipient(ctx context.Context, digestID, subscriberID int64) (syndicate.Recipient, error) {
	r, err := scanRecipient(s.r.QueryRowContext(ctx, `SELECT `+recipientCols+` FROM digest_recipients
		WHERE digest_id = ? AND subscriber_id = ?`, digestID, subscriberID))
	if errors.Is(err, sql.ErrNoRows) {
		err = syndicate.ErrNotFound
	}
	if err != nil {
		return syndicate.Recipient{}, fmt.Errorf("recipient %d of digest %d: %w", subscriberID, digestID, err)
	}
	return r, nil
}

// sortRecipients puts records in subscriber order (RETURNING gives none).
func sortRecipients(rs []syndicate.Recipient) {
	slices.SortFunc(rs, func(a, b syndicate.Recipient) int { return cmp.Compare(a.SubscriberID, b.SubscriberID) })
}

// subscriberColsAs is subscriberColumns qualified with a table alias.
func subscriberColsAs(alias string) string {
	return alias + "." + strings.ReplaceAll(subscriberColumns, ", ", ", "+alias+".")
}

// int64Chunks splits ids into slices of at most maxInList.
func int64Chunks(ids []int64) [][]int64 {
	var out [][]int64
	for len(ids) > maxInList {
		out = append(out, ids[:maxInList])
		ids = ids[maxInList:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// numbered returns "?3, ?4, …" for n parameters numbered from first.
func numbered(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("?" + strconv.Itoa(first+i))
	}
	return b.String()
}

// DigestMessages lists the digest's records in states (all when none),
// with the subscribers' addresses, in subscriber order.
func (s *Store) DigestMessages(ctx context.Context, digestID int64, states []syndicate.RecipientState) ([]syndicate.DigestMessage, error) {
	q := `SELECT r.digest_id, r.subscriber_id, r.state, r.attempts, r.last_error, r.updated_at, s.email
		FROM digest_recipients r JOIN subscribers s ON s.id = r.subscriber_id WHERE r.digest_id = ?`
	args := []any{digestID}
	if len(states) > 0 {
		q += ` AND r.state IN (` + placeholders(len(states)) + `)`
		for _, st := range states {
			args = append(args, string(st))
		}
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY r.subscriber_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("messages of digest %d: %w", digestID, err)
	}
	defer rows.Close()
	var out []syndicate.DigestMessage
	for rows.Next() {
		var m syndicate.DigestMessage
		var state string
		var updated int64
		if err := rows.Scan(&m.DigestID, &m.SubscriberID, &state, &m.Attempts, &m.LastError, &updated, &m.Email); err != nil {
			return nil, fmt.Errorf("messages of digest %d: %w", digestID, err)
		}
		m.State, m.UpdatedAt = syndicate.RecipientState(state), goTime(updated)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("messages of digest %d: %w", digestID, err)
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
	var changed []int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		for _, chunk := range int64Chunks(subscriberIDs) {
			args := []any{string(to), note, dbTime(s.now()), digestID}
			for _, st := range from {
				args = append(args, string(st))
			}
			args = append(args, int64Args(chunk)...)
			rows, err := tx.QueryContext(ctx, `UPDATE digest_recipients SET state = ?, last_error = ?, updated_at = ?
				WHERE digest_id = ? AND state IN (`+placeholders(len(from))+`) AND subscriber_id IN (`+placeholders(len(chunk))+`)
				RETURNING subscriber_id`, args...)
			if err != nil {
				return err
			}
			ids, err := scanIDs(rows)
			if err != nil {
				return err
			}
			changed = append(changed, ids...)
		}
		if to == syndicate.RecipientDeferred && len(changed) > 0 {
			_, err := tx.ExecContext(ctx, `UPDATE digests SET finished_at = ? WHERE id = ?`, dbTime(time.Time{}), digestID)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("set messages of digest %d to %s: %w", digestID, to, err)
	}
	slices.Sort(changed)
	return changed, nil
}

// scanIDs reads a one-column result of ids (RETURNING subscriber_id) and
// closes it.
func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
