package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// FeedState returns the saved state of a feed, or a zero state with FeedID
// set for a feed never saved.
func (s *Store) FeedState(ctx context.Context, feedID string) (syndicate.FeedState, error) {
	st, err := readFeedState(ctx, s.r, feedID)
	if err != nil {
		return st, fmt.Errorf("read state of feed %q: %w", feedID, err)
	}
	return st, nil
}

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const feedStateQuery = `SELECT etag, last_modified, last_poll_at, last_ok_at, last_error, failures, next_poll_at,
		gone_url, moved_from, moved_to
	FROM feeds WHERE feed_id = ?`

func readFeedState(ctx context.Context, db rowQuerier, feedID string) (syndicate.FeedState, error) {
	st := syndicate.FeedState{FeedID: feedID}
	var lastPoll, lastOK, nextPoll int64
	err := db.QueryRowContext(ctx, feedStateQuery, feedID).
		Scan(&st.ETag, &st.LastModified, &lastPoll, &lastOK, &st.LastError, &st.Failures, &nextPoll,
			&st.GoneURL, &st.MovedFrom, &st.MovedTo)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.LastPollAt, st.LastOKAt, st.NextPollAt = goTime(lastPoll), goTime(lastOK), goTime(nextPoll)
	return st, nil
}

// StartPoll takes the poll's lease and, when it is granted, reads the
// feed's state, in one write transaction.
func (s *Store) StartPoll(ctx context.Context, feedID string, c syndicate.LeaseClaim) (syndicate.FeedState, string, error) {
	var st syndicate.FeedState
	var holder string
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		w := s.writer(tx)
		if holder, err = takeLease(ctx, w, c); err != nil || holder != c.Owner {
			return err
		}
		st, err = readFeedState(ctx, w, feedID)
		return err
	})
	if err != nil {
		return st, "", fmt.Errorf("start poll of feed %q: %w", feedID, err)
	}
	return st, holder, nil
}

// SaveFeedState replaces the saved state of st.FeedID.
func (s *Store) SaveFeedState(ctx context.Context, st syndicate.FeedState) error {
	if err := saveFeedState(ctx, s.w, st); err != nil {
		return fmt.Errorf("save state of feed %q: %w", st.FeedID, busy(err))
	}
	return nil
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const saveFeedStateQuery = `
		INSERT INTO feeds (feed_id, etag, last_modified, last_poll_at, last_ok_at, last_error,
			failures, next_poll_at, gone_url, moved_from, moved_to)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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

func saveFeedState(ctx context.Context, db execer, st syndicate.FeedState) error {
	if st.FeedID == "" {
		return errors.New("empty feed id")
	}
	_, err := db.ExecContext(ctx, saveFeedStateQuery,
		st.FeedID, st.ETag, st.LastModified, dbTime(st.LastPollAt), dbTime(st.LastOKAt),
		st.LastError, st.Failures, dbTime(st.NextPollAt), st.GoneURL, st.MovedFrom, st.MovedTo)
	return err
}

// KnownKeys returns, of keys, those recorded for the feed as an article key
// or an alias, with the article each leads to.
func (s *Store) KnownKeys(ctx context.Context, feedID string, keys []string) (map[string]syndicate.KnownArticle, error) {
	known := make(map[string]syndicate.KnownArticle)
	for _, chunk := range chunks(keys) {
		in := placeholders(len(chunk))
		// An article key wins over an alias with the same key (the store
		// never records both, but the order must not depend on luck).
		query := `
			SELECT key, id, hash, 0 AS via_alias FROM articles
			WHERE feed_id = ? AND key IN (` + in + `)
			UNION ALL
			SELECT al.key, a.id, a.hash, 1 FROM article_aliases al JOIN articles a ON a.id = al.article_id
			WHERE al.feed_id = ? AND al.key IN (` + in + `)
			ORDER BY via_alias`
		args := make([]any, 0, 2*len(chunk)+2)
		args = append(args, feedID)
		args = appendStrings(args, chunk)
		args = append(args, feedID)
		args = appendStrings(args, chunk)
		if err := s.collectKnown(ctx, known, query, args); err != nil {
			return nil, fmt.Errorf("known keys of feed %q: %w", feedID, err)
		}
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
	for _, chunk := range chunks(nonEmpty) {
		query := `
			SELECT link, id, hash, 0 FROM articles
			WHERE feed_id = ? AND link IN (` + placeholders(len(chunk)) + `)
			ORDER BY id`
		args := appendStrings([]any{feedID}, chunk)
		if err := s.collectKnown(ctx, known, query, args); err != nil {
			return nil, fmt.Errorf("known links of feed %q: %w", feedID, err)
		}
	}
	return known, nil
}

// collectKnown adds to known the rows (name, id, hash, _) of query, keeping
// the first row of each name.
func (s *Store) collectKnown(ctx context.Context, known map[string]syndicate.KnownArticle, query string, args []any) error {
	rows, err := s.r.QueryContext(ctx, query, args...)
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

func appendStrings(args []any, s []string) []any {
	for _, v := range s {
		args = append(args, v)
	}
	return args
}

// Routes returns the channels established for the feed.
func (s *Store) Routes(ctx context.Context, feedID string) (map[string]bool, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT channel_id FROM routes WHERE feed_id = ?`, feedID)
	if err != nil {
		return nil, fmt.Errorf("routes of feed %q: %w", feedID, err)
	}
	defer rows.Close()
	routes := make(map[string]bool)
	for rows.Next() {
		var ch string
		if err := rows.Scan(&ch); err != nil {
			return nil, fmt.Errorf("routes of feed %q: %w", feedID, err)
		}
		routes[ch] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("routes of feed %q: %w", feedID, err)
	}
	return routes, nil
}
