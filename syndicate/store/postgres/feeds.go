package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// FeedState returns the saved state of a feed, or a zero state with FeedID
// set for a feed never saved.
func (s *Store) FeedState(ctx context.Context, feedID string) (syndicate.FeedState, error) {
	st, err := readFeedState(ctx, s.pool, feedID)
	if err != nil {
		return st, fmt.Errorf("read state of feed %q: %w", feedID, s.busy(ctx, err))
	}
	return st, nil
}

// rowQuerier is the pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func readFeedState(ctx context.Context, db rowQuerier, feedID string) (syndicate.FeedState, error) {
	return scanFeedState(db.QueryRow(ctx, feedStateQuery, feedID), feedID)
}

const feedStateQuery = `
		SELECT etag, last_modified, last_poll_at, last_ok_at, last_error, failures, next_poll_at,
			gone_url, moved_from, moved_to
		FROM feeds WHERE feed_id = $1`

// scanFeedState reads the row of feedStateQuery: a zero state with FeedID
// set when there is none. lead are the destinations of the columns before
// the state's, if any.
func scanFeedState(row pgx.Row, feedID string, lead ...any) (syndicate.FeedState, error) {
	st := syndicate.FeedState{FeedID: feedID}
	var lastPoll, lastOK, nextPoll time.Time
	err := row.Scan(append(lead, &st.ETag, &st.LastModified, &lastPoll, &lastOK, &st.LastError, &st.Failures, &nextPoll,
		&st.GoneURL, &st.MovedFrom, &st.MovedTo)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.LastPollAt, st.LastOKAt, st.NextPollAt = goTime(lastPoll), goTime(lastOK), goTime(nextPoll)
	return st, nil
}

// StartPoll takes the poll's lease and reads the feed's state in one
// statement (one round trip, its own transaction): who holds the lease
// after the claim, and the state, which the caller uses only when the
// lease is its own. Nothing is announced: no other process waits for a
// feed's lease.
func (s *Store) StartPoll(ctx context.Context, feedID string, c syndicate.LeaseClaim) (syndicate.FeedState, string, error) {
	var st syndicate.FeedState
	var holder string
	err := s.retry(ctx, func() error {
		var err error
		st, err = scanFeedState(s.pool.QueryRow(ctx, startPollQuery, append(leaseClaimArgs(c), feedID)...), feedID, &holder)
		return err
	})
	if err != nil {
		return st, "", fmt.Errorf("start poll of feed %q: %w", feedID, err)
	}
	return st, holder, nil
}

// startPollQuery is claimLeaseQuery, the lease's holder after it, and
// feedStateQuery's columns (the zero state of a feed never saved). The
// holder is the claimant when the claim took the lease; else the holder
// the statement's snapshot sees, "" if it began too late to see one.
const startPollQuery = `
		WITH claimed AS (` + claimLeaseQuery + ` RETURNING owner)
		SELECT COALESCE((SELECT owner FROM claimed), (SELECT owner FROM leases WHERE name = $1), ''),
			COALESCE(f.etag, ''), COALESCE(f.last_modified, ''),
			COALESCE(f.last_poll_at, '0001-01-01 00:00:00+00'), COALESCE(f.last_ok_at, '0001-01-01 00:00:00+00'),
			COALESCE(f.last_error, ''), COALESCE(f.failures, 0),
			COALESCE(f.next_poll_at, '0001-01-01 00:00:00+00'),
			COALESCE(f.gone_url, ''), COALESCE(f.moved_from, ''), COALESCE(f.moved_to, '')
		FROM (VALUES (1)) AS one LEFT JOIN feeds f ON f.feed_id = $6`

// SaveFeedState replaces the saved state of st.FeedID.
func (s *Store) SaveFeedState(ctx context.Context, st syndicate.FeedState) error {
	err := s.tx(ctx, func(tx pgx.Tx) error { return saveFeedState(ctx, tx, st) }, changedFeed)
	if err != nil {
		return fmt.Errorf("save state of feed %q: %w", st.FeedID, err)
	}
	return nil
}

func saveFeedState(ctx context.Context, tx pgx.Tx, st syndicate.FeedState) error {
	args, err := feedStateArgs(st)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, saveFeedStateQuery, args...)
	return err
}

const saveFeedStateQuery = `
		INSERT INTO feeds (feed_id, etag, last_modified, last_poll_at, last_ok_at, last_error,
			failures, next_poll_at, gone_url, moved_from, moved_to)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (feed_id) DO UPDATE SET
			etag = excluded.etag,
			last_modified = excluded.last_modified,
			last_poll_at = excluded.last_poll_at,
			last_ok_at = excluded.last_ok_at,
			last_error = excluded.last_error,
			failures = excluded.failures,
			next_poll_at = excluded.next_poll_at,
			gone_url = excluded.gone_url,
			moved_from = excluded.moved_from,
			moved_to = excluded.moved_to`

func feedStateArgs(st syndicate.FeedState) ([]any, error) {
	if st.FeedID == "" {
		return nil, errors.New("empty feed id")
	}
	return []any{st.FeedID, st.ETag, st.LastModified, st.LastPollAt, st.LastOKAt,
		st.LastError, st.Failures, st.NextPollAt, st.GoneURL, st.MovedFrom, st.MovedTo}, nil
}

// KnownKeys returns, of keys, those recorded for the feed as an article key
// or an alias, with the article each leads to. An article key wins over
// an alias with the same key (the store never records both).
func (s *Store) KnownKeys(ctx context.Context, feedID string, keys []string) (map[string]syndicate.KnownArticle, error) {
	known := make(map[string]syndicate.KnownArticle)
	if len(keys) == 0 {
		return known, nil
	}
	err := s.collectKnown(ctx, known, `
		SELECT k.key, a.id, a.hash, 0 AS via_alias
		FROM unnest($2::text[]) AS k(key)
		JOIN articles a ON a.feed_id = $1 AND md5(a.key) = md5(k.key) AND a.key = k.key
		UNION ALL
		SELECT k.key, a.id, a.hash, 1
		FROM unnest($2::text[]) AS k(key)
		JOIN article_aliases al ON al.feed_id = $1 AND md5(al.key) = md5(k.key) AND al.key = k.key
		JOIN articles a ON a.id = al.article_id
		ORDER BY via_alias`, feedID, keys)
	if err != nil {
		return nil, fmt.Errorf("known keys of feed %q: %w", feedID, s.busy(ctx, err))
	}
	return known, nil
}

// KnownLinks returns, of links, the canonical links of articles recorded
// for the feed (not those of other feeds). An empty link matches nothing;
// when several articles share a link, the first recorded is returned.
func (s *Store) KnownLinks(ctx context.Context, feedID string, links []string) (map[string]syndicate.KnownArticle, error) {
	known := make(map[string]syndicate.KnownArticle)
	var nonEmpty []string
	for _, l := range links {
		if l != "" {
			nonEmpty = append(nonEmpty, l)
		}
	}
	if len(nonEmpty) == 0 {
		return known, nil
	}
	err := s.collectKnown(ctx, known, `
		SELECT a.link, a.id, a.hash, 0
		FROM (SELECT DISTINCT l FROM unnest($2::text[]) AS l) AS k(link)
		JOIN articles a ON a.feed_id = $1 AND md5(a.link) = md5(k.link) AND a.link = k.link
		ORDER BY a.id`, feedID, nonEmpty)
	if err != nil {
		return nil, fmt.Errorf("known links of feed %q: %w", feedID, s.busy(ctx, err))
	}
	return known, nil
}

// collectKnown adds to known the rows (name, id, hash, _) of query, keeping
// the first row of each name.
func (s *Store) collectKnown(ctx context.Context, known map[string]syndicate.KnownArticle, query string, args ...any) error {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name string
			ka   syndicate.KnownArticle
			skip int
		)
		if err := rows.Scan(&name, &ka.ID, &ka.Hash, &skip); err != nil {
			return err
		}
		if _, dup := known[name]; !dup {
			known[name] = ka
		}
	}
	return rows.Err()
}

// Routes returns the channels established for the feed.
func (s *Store) Routes(ctx context.Context, feedID string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT channel_id FROM routes WHERE feed_id = $1`, feedID)
	if err != nil {
		return nil, fmt.Errorf("routes of feed %q: %w", feedID, s.busy(ctx, err))
	}
	chans, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("routes of feed %q: %w", feedID, s.busy(ctx, err))
	}
	routes := make(map[string]bool, len(chans))
	for _, ch := range chans {
		routes[ch] = true
	}
	return routes, nil
}

// Subscription returns the WebSub subscription of the feed, or ErrNotFound.
func (s *Store) Subscription(ctx context.Context, feedID string) (syndicate.Subscription, error) {
	sub := syndicate.Subscription{FeedID: feedID}
	var lease, updated time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT hub, topic, secret, state, lease_until, updated_at
		FROM subscriptions WHERE feed_id = $1`, feedID).
		Scan(&sub.Hub, &sub.Topic, &sub.Secret, &sub.State, &lease, &updated)
	if err != nil {
		return syndicate.Subscription{}, fmt.Errorf("read subscription of feed %q: %w", feedID, s.busy(ctx, notFound(err)))
	}
	sub.LeaseUntil, sub.UpdatedAt = goTime(lease), goTime(updated)
	return sub, nil
}

// SaveSubscription creates or replaces the subscription of sub.FeedID. A
// zero UpdatedAt takes the store's clock.
func (s *Store) SaveSubscription(ctx context.Context, sub syndicate.Subscription) error {
	if sub.FeedID == "" {
		return errors.New("save subscription: empty feed id")
	}
	if sub.UpdatedAt.IsZero() {
		sub.UpdatedAt = s.now()
	}
	_, err := s.exec(ctx, changedSubscription, `
		INSERT INTO subscriptions (feed_id, hub, topic, secret, state, lease_until, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (feed_id) DO UPDATE SET
			hub = excluded.hub,
			topic = excluded.topic,
			secret = excluded.secret,
			state = excluded.state,
			lease_until = excluded.lease_until,
			updated_at = excluded.updated_at`,
		sub.FeedID, sub.Hub, sub.Topic, sub.Secret, sub.State, sub.LeaseUntil, sub.UpdatedAt)
	if err != nil {
		return fmt.Errorf("save subscription of feed %q: %w", sub.FeedID, err)
	}
	return nil
}

// DeleteSubscription forgets the subscription of the feed; deleting one
// that is not there is not an error.
func (s *Store) DeleteSubscription(ctx context.Context, feedID string) error {
	if _, err := s.exec(ctx, changedSubscription, `DELETE FROM subscriptions WHERE feed_id = $1`, feedID); err != nil {
		return fmt.Errorf("delete subscription of feed %q: %w", feedID, err)
	}
	return nil
}
