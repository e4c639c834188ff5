package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var (
	_ syndicate.EditorStore   = (*Store)(nil)
	_ syndicate.ChangeWatcher = (*Store)(nil)
)

// ListArticles returns the articles that match f, newest first (by
// SortTime, then ID), each with all its deliveries, and how many match.
func (s *Store) ListArticles(ctx context.Context, f syndicate.ArticleFilter) ([]syndicate.ArticleView, int, error) {
	var (
		where []string
		args  []any
	)
	if f.FeedID != "" {
		where, args = append(where, "a.feed_id = ?"), append(args, f.FeedID)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		// instr on lower(): no LIKE wildcards to escape. lower() folds
		// ASCII only; titles are matched as typed beyond it.
		where, args = append(where, "instr(lower(a.title), lower(?)) > 0"), append(args, q)
	}
	if f.ChannelID != "" || len(f.States) > 0 {
		sub := []string{"d.article_id = a.id"}
		if f.ChannelID != "" {
			sub, args = append(sub, "d.channel_id = ?"), append(args, f.ChannelID)
		}
		if len(f.States) > 0 {
			sub = append(sub, "d.state IN ("+placeholders(len(f.States))+")")
			for _, st := range f.States {
				args = append(args, string(st))
			}
		}
		where = append(where, "EXISTS (SELECT 1 FROM deliveries d WHERE "+strings.Join(sub, " AND ")+")")
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM articles a`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count articles: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+articleViewCols+` FROM articles a`+cond+`
		ORDER BY a.sort_time DESC, a.id DESC LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list articles: %w", err)
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
		return nil, 0, fmt.Errorf("list articles: %w", err)
	}
	if len(views) == 0 {
		return views, total, nil
	}
	ids := make([]any, 0, len(views))
	for _, v := range views {
		ids = append(ids, v.Article.ID)
	}
	drows, err := s.r.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d
		WHERE d.article_id IN (`+placeholders(len(ids))+`) ORDER BY d.channel_id, d.id`, ids...)
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries of articles: %w", err)
	}
	defer drows.Close()
	for drows.Next() {
		var d syndicate.Delivery
		if err := scanDelivery(drows, &d); err != nil {
			return nil, 0, fmt.Errorf("list deliveries of articles: %w", err)
		}
		i := index[d.ArticleID]
		views[i].Deliveries = append(views[i].Deliveries, d)
	}
	if err := drows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list deliveries of articles: %w", err)
	}
	return views, total, nil
}

// RecordAttempt keeps one send of a delivery.
func (s *Store) RecordAttempt(ctx context.Context, a syndicate.Attempt) error {
	_, err := s.w.ExecContext(ctx, `
		INSERT INTO delivery_attempts (delivery_id, at, took_us, state, error) VALUES (?, ?, ?, ?, ?)`,
		a.DeliveryID, dbTime(a.At), a.Took.Microseconds(), string(a.State), a.Error)
	if err != nil {
		return fmt.Errorf("record attempt of delivery %d: %w", a.DeliveryID, err)
	}
	return nil
}

// Attempts returns the delivery's attempts, oldest first.
func (s *Store) Attempts(ctx context.Context, deliveryID int64) ([]syndicate.Attempt, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT at, took_us, state, error FROM delivery_attempts WHERE delivery_id = ? ORDER BY id`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("attempts of delivery %d: %w", deliveryID, err)
	}
	defer rows.Close()
	var out []syndicate.Attempt
	for rows.Next() {
		a := syndicate.Attempt{DeliveryID: deliveryID}
		var at, took int64
		var state string
		if err := rows.Scan(&at, &took, &state, &a.Error); err != nil {
			return nil, fmt.Errorf("attempts of delivery %d: %w", deliveryID, err)
		}
		a.At, a.Took, a.State = goTime(at), time.Duration(took)*time.Microsecond, syndicate.State(state)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attempts of delivery %d: %w", deliveryID, err)
	}
	return out, nil
}

// SetPaused pauses (keeping the time of the first pause) or resumes a
// channel.
func (s *Store) SetPaused(ctx context.Context, channelID string, paused bool) error {
	var err error
	if paused {
		_, err = s.w.ExecContext(ctx, `INSERT INTO paused_channels (channel_id, paused_at) VALUES (?, ?)
			ON CONFLICT (channel_id) DO NOTHING`, channelID, dbTime(s.now()))
	} else {
		_, err = s.w.ExecContext(ctx, `DELETE FROM paused_channels WHERE channel_id = ?`, channelID)
	}
	if err != nil {
		return fmt.Errorf("pause channel %q (%t): %w", channelID, paused, err)
	}
	return nil
}

// PausedChannels returns the paused channels and when each was paused.
func (s *Store) PausedChannels(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT channel_id, paused_at FROM paused_channels`)
	if err != nil {
		return nil, fmt.Errorf("paused channels: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("paused channels: %w", err)
		}
		out[id] = goTime(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("paused channels: %w", err)
	}
	return out, nil
}

// ChangeInterval is how often Changes looks for writes by other
// connections: the bound on how late a decision made in another process
// reaches a running daemon.
const ChangeInterval = 250 * time.Millisecond

// Changes reports writes made through other connections to the database:
// another process (the command line) or this one's own writer. It reads
// PRAGMA data_version, which changes when another connection commits, on
// one connection held for the purpose, every ChangeInterval; a burst of
// writes is one signal. The channel closes when ctx ends.
func (s *Store) Changes(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		conn, err := s.r.Conn(ctx)
		if err != nil {
			return
		}
		defer conn.Close()
		version := func() (int64, bool) {
			var v int64
			err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
			return v, err == nil
		}
		last, ok := version()
		if !ok {
			return
		}
		tick := time.NewTicker(ChangeInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			v, ok := version()
			if !ok || v == last {
				continue
			}
			last = v
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out
}
