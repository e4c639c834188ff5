package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// ListArticles returns the articles that match f, newest first (by
// SortTime, then ID), each with all its deliveries, and how many match.
// The query matches the title without regard to case as the database's
// lower() folds it (every letter under a UTF-8 locale; ASCII only under
// the C locale, like the SQLite store).
func (s *Store) ListArticles(ctx context.Context, f syndicate.ArticleFilter) ([]syndicate.ArticleView, int, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.FeedID != "" {
		where = append(where, "a.feed_id = "+arg(f.FeedID))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		// strpos, not LIKE: no wildcards to escape.
		where = append(where, "strpos(lower(a.title), lower("+arg(q)+"::text)) > 0")
	}
	if f.ChannelID != "" || len(f.States) > 0 {
		sub := []string{"d.article_id = a.id"}
		if f.ChannelID != "" {
			sub = append(sub, "d.channel_id = "+arg(f.ChannelID))
		}
		if len(f.States) > 0 {
			sub = append(sub, "d.state = ANY("+arg(stateStrings(f.States))+"::text[])")
		}
		where = append(where, "EXISTS (SELECT 1 FROM deliveries d WHERE "+strings.Join(sub, " AND ")+")")
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM articles a`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count articles: %w", s.busy(ctx, err))
	}
	query := `SELECT ` + articleViewCols + ` FROM articles a` + cond +
		` ORDER BY a.sort_time DESC, a.id DESC LIMIT ` + arg(limitArg(f.Limit)) + ` OFFSET ` + arg(int64(max(f.Offset, 0)))
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list articles: %w", s.busy(ctx, err))
	}
	var views []syndicate.ArticleView
	index := map[int64]int{}
	for rows.Next() {
		var v syndicate.ArticleView
		if err := scanArticle(rows, &v.Article); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("list articles: %w", err)
		}
		index[v.Article.ID] = len(views)
		views = append(views, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list articles: %w", s.busy(ctx, err))
	}
	if len(views) == 0 {
		return views, total, nil
	}
	ids := make([]int64, 0, len(views))
	for _, v := range views {
		ids = append(ids, v.Article.ID)
	}
	drows, err := s.pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d
		WHERE d.article_id = ANY($1::bigint[]) ORDER BY d.channel_id, d.id`, ids)
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries of articles: %w", s.busy(ctx, err))
	}
	ds, err := collectDeliveries(drows)
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries of articles: %w", s.busy(ctx, err))
	}
	for _, d := range ds {
		i := index[d.ArticleID]
		views[i].Deliveries = append(views[i].Deliveries, d)
	}
	return views, total, nil
}

// RecordAttempt keeps one send of a delivery. It notifies nobody: the
// delivery's own update, which comes with every attempt, does.
func (s *Store) RecordAttempt(ctx context.Context, a syndicate.Attempt) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO delivery_attempts (delivery_id, at, took_us, state, error) VALUES ($1, $2, $3, $4, $5)`,
		a.DeliveryID, a.At, a.Took.Microseconds(), string(a.State), a.Error)
	if err != nil {
		return fmt.Errorf("record attempt of delivery %d: %w", a.DeliveryID, s.busy(ctx, err))
	}
	return nil
}

// Attempts returns the delivery's attempts, oldest first.
func (s *Store) Attempts(ctx context.Context, deliveryID int64) ([]syndicate.Attempt, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT at, took_us, state, error FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("attempts of delivery %d: %w", deliveryID, s.busy(ctx, err))
	}
	defer rows.Close()
	var out []syndicate.Attempt
	for rows.Next() {
		a := syndicate.Attempt{DeliveryID: deliveryID}
		var at time.Time
		var took int64
		var state string
		if err := rows.Scan(&at, &took, &state, &a.Error); err != nil {
			return nil, fmt.Errorf("attempts of delivery %d: %w", deliveryID, err)
		}
		a.At, a.Took, a.State = goTime(at), time.Duration(took)*time.Microsecond, syndicate.State(state)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attempts of delivery %d: %w", deliveryID, s.busy(ctx, err))
	}
	return out, nil
}

// SetPaused pauses (keeping the time of the first pause) or resumes a
// channel, and tells the other processes.
func (s *Store) SetPaused(ctx context.Context, channelID string, paused bool) error {
	var err error
	if paused {
		_, err = s.exec(ctx, changedPause, `INSERT INTO paused_channels (channel_id, paused_at) VALUES ($1, $2)
			ON CONFLICT (channel_id) DO NOTHING`, channelID, s.now())
	} else {
		_, err = s.exec(ctx, changedPause, `DELETE FROM paused_channels WHERE channel_id = $1`, channelID)
	}
	if err != nil {
		return fmt.Errorf("pause channel %q (%t): %w", channelID, paused, err)
	}
	return nil
}

// PausedChannels returns the paused channels and when each was paused.
func (s *Store) PausedChannels(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT channel_id, paused_at FROM paused_channels`)
	if err != nil {
		return nil, fmt.Errorf("paused channels: %w", s.busy(ctx, err))
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("paused channels: %w", err)
		}
		out[id] = goTime(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("paused channels: %w", s.busy(ctx, err))
	}
	return out, nil
}
