package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

const (
	articleHead = `a.id, a.feed_id, a.key, a.link, a.title, a.summary, `
	articleTail = `, a.image_url, a.image_caption, a.categories, a.related, a.language, a.author,
		a.published, a.updated, a.position, a.hash, a.first_seen, a.category_labels`
	articleCols = articleHead + `a.content_html` + articleTail
	// articleViewCols leaves out the content, which a status page never
	// shows and which would make a long listing heavy. The related links
	// stay: they are small.
	articleViewCols = articleHead + `'' AS content_html` + articleTail
)

const deliveryCols = `d.id, d.article_id, d.channel_id, d.state, d.attempts, d.next_attempt,
	d.last_error, d.remote_id, d.remote_url, d.sort_time, d.created_at, d.updated_at,
	d.sending_since, d.override, d.owner`

type scanner interface{ Scan(dest ...any) error }

// articleDest returns the scan destinations of articleCols; finish
// decodes the times, categories and related links once the row is scanned.
func articleDest(a *syndicate.Article) (dest []any, finish func() error) {
	var cats, related, labels string
	var published, updated, firstSeen int64
	dest = []any{&a.ID, &a.FeedID, &a.Key, &a.Link, &a.Title, &a.Summary, &a.ContentHTML,
		&a.ImageURL, &a.ImageCaption, &cats, &related, &a.Language, &a.Author, &published, &updated,
		&a.Position, &a.Hash, &firstSeen, &labels}
	return dest, func() error {
		a.Published, a.Updated, a.FirstSeen = goTime(published), goTime(updated), goTime(firstSeen)
		var err error
		if a.Categories, err = decodeCategories(cats); err != nil {
			return fmt.Errorf("categories of article %d: %w", a.ID, err)
		}
		if a.CategoryLabels, err = decodeCategories(labels); err != nil {
			return fmt.Errorf("category labels of article %d: %w", a.ID, err)
		}
		if a.Related, err = decodeRelated(related); err != nil {
			return fmt.Errorf("related links of article %d: %w", a.ID, err)
		}
		return nil
	}
}

func scanArticle(row scanner, a *syndicate.Article) error {
	dest, finish := articleDest(a)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	return finish()
}

// deliveryDest returns the scan destinations of deliveryCols; finish
// decodes the times once the row is scanned.
func deliveryDest(d *syndicate.Delivery) (dest []any, finish func()) {
	var state string
	var next, sortT, created, updated, sending int64
	dest = []any{&d.ID, &d.ArticleID, &d.ChannelID, &state, &d.Attempts, &next,
		&d.LastError, &d.RemoteID, &d.RemoteURL, &sortT, &created, &updated, &sending, &d.Override, &d.Owner}
	return dest, func() {
		d.State = syndicate.State(state)
		d.NextAttempt, d.SortTime = goTime(next), goTime(sortT)
		d.CreatedAt, d.UpdatedAt, d.SendingSince = goTime(created), goTime(updated), goTime(sending)
	}
}

func scanDelivery(row scanner, d *syndicate.Delivery) error {
	dest, finish := deliveryDest(d)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	finish()
	return nil
}

// Article returns the article with the given id, or ErrNotFound.
func (s *Store) Article(ctx context.Context, id int64) (syndicate.Article, error) {
	var a syndicate.Article
	err := scanArticle(s.r.QueryRowContext(ctx,
		`SELECT `+articleCols+` FROM articles a WHERE a.id = ?`, id), &a)
	if errors.Is(err, sql.ErrNoRows) {
		err = syndicate.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("read article %d: %w", id, err)
	}
	return a, nil
}

// Delivery returns the delivery with the given id, or ErrNotFound.
func (s *Store) Delivery(ctx context.Context, id int64) (syndicate.Delivery, error) {
	var d syndicate.Delivery
	err := scanDelivery(s.r.QueryRowContext(ctx,
		`SELECT `+deliveryCols+` FROM deliveries d WHERE d.id = ?`, id), &d)
	if errors.Is(err, sql.ErrNoRows) {
		err = syndicate.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("read delivery %d: %w", id, err)
	}
	return d, nil
}

// DueDeliveries returns the channel's pending deliveries whose NextAttempt
// is not after now (a zero NextAttempt is due), by SortTime then ID. A
// limit of zero or less means no limit.
func (s *Store) DueDeliveries(ctx context.Context, channelID string, now time.Time, limit int) ([]syndicate.Delivery, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	// The unary + keeps SQLite from taking deliveries_next for the range on
	// next_attempt and then sorting the whole backlog: walking
	// deliveries_queue in order stops after limit rows.
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+deliveryCols+` FROM deliveries d
		WHERE d.channel_id = ? AND d.state = 'pending' AND +d.next_attempt <= ?
		ORDER BY d.sort_time, d.id
		LIMIT ?`, channelID, dbTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due deliveries of channel %q: %w", channelID, err)
	}
	defer rows.Close()
	var due []syndicate.Delivery
	for rows.Next() {
		var d syndicate.Delivery
		if err := scanDelivery(rows, &d); err != nil {
			return nil, fmt.Errorf("due deliveries of channel %q: %w", channelID, err)
		}
		due = append(due, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due deliveries of channel %q: %w", channelID, err)
	}
	return due, nil
}

// NextDue returns the earliest NextAttempt of the channel's pending
// deliveries (the zero time when one is due at once); ok is false when the
// channel has none pending.
func (s *Store) NextDue(ctx context.Context, channelID string) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.r.QueryRowContext(ctx, `
		SELECT MIN(next_attempt) FROM deliveries
		WHERE channel_id = ? AND state = 'pending'`, channelID).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due delivery of channel %q: %w", channelID, err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return goTime(next.Int64), true, nil
}

// UpdateDelivery saves d's state, attempts, next attempt, last error, remote
// id and url, sending time and override if the stored row is still in state from;
// otherwise it returns ErrConflict (ErrNotFound for an unknown id) and
// changes nothing. UpdatedAt is set from the store's clock; the article,
// channel, SortTime and CreatedAt of a delivery never change.
func (s *Store) UpdateDelivery(ctx context.Context, d syndicate.Delivery, from syndicate.State) error {
	res, err := s.w.ExecContext(ctx, `
		UPDATE deliveries SET state = ?, attempts = ?, next_attempt = ?, last_error = ?,
			remote_id = ?, remote_url = ?, sending_since = ?, override = ?, owner = ?, updated_at = ?
		WHERE id = ? AND state = ?`,
		string(d.State), d.Attempts, dbTime(d.NextAttempt), d.LastError, d.RemoteID,
		d.RemoteURL, dbTime(d.SendingSince), d.Override, d.Owner, dbTime(s.now()), d.ID, string(from))
	if err != nil {
		return fmt.Errorf("update delivery %d: %w", d.ID, busy(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update delivery %d: %w", d.ID, err)
	}
	if n == 1 {
		return nil
	}
	// Deliveries are never deleted, so the row, if it exists, was moved.
	var exists int
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE id = ?`, d.ID).Scan(&exists)
	switch {
	case err != nil:
		return fmt.Errorf("update delivery %d: %w", d.ID, err)
	case exists == 0:
		return fmt.Errorf("update delivery %d: %w", d.ID, syndicate.ErrNotFound)
	default:
		return fmt.Errorf("update delivery %d from %s: %w", d.ID, from, syndicate.ErrConflict)
	}
}

// ListDeliveries returns the deliveries that match f with their article,
// ordered by the article's SortTime then the delivery's ID, newest last.
// With a limit, the newest f.Limit are returned. The article comes without
// its ContentHTML: use Article for the whole.
func (s *Store) ListDeliveries(ctx context.Context, f syndicate.DeliveryFilter) ([]syndicate.DeliveryView, error) {
	var (
		where []string
		args  []any
	)
	if f.ArticleID != 0 {
		// On a.id, not d.article_id: SQLite then reads the one article by
		// its rowid instead of walking them all.
		where, args = append(where, "a.id = ?"), append(args, f.ArticleID)
	}
	if f.FeedID != "" {
		where, args = append(where, "a.feed_id = ?"), append(args, f.FeedID)
	}
	if f.ChannelID != "" {
		where, args = append(where, "d.channel_id = ?"), append(args, f.ChannelID)
	}
	if len(f.States) > 0 {
		where = append(where, "d.state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	// CROSS JOIN makes SQLite walk the articles newest first (articles_sort)
	// and stop after limit rows; left to itself it joins every delivery of
	// the channel and sorts them all.
	query := `SELECT ` + deliveryCols + `, ` + articleViewCols + `
		FROM articles a CROSS JOIN deliveries d ON d.article_id = a.id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	query += " ORDER BY a.sort_time DESC, d.id DESC LIMIT ?"
	args = append(args, limit)

	views, err := s.queryViews(ctx, query, args)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	slices.Reverse(views)
	return views, nil
}

func (s *Store) queryViews(ctx context.Context, query string, args []any) ([]syndicate.DeliveryView, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var views []syndicate.DeliveryView
	for rows.Next() {
		var v syndicate.DeliveryView
		dDest, dFinish := deliveryDest(&v.Delivery)
		aDest, aFinish := articleDest(&v.Article)
		if err := rows.Scan(append(dDest, aDest...)...); err != nil {
			return nil, err
		}
		dFinish()
		if err := aFinish(); err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return views, rows.Err()
}

// CountDeliveries returns the number of deliveries per channel and state.
func (s *Store) CountDeliveries(ctx context.Context) (map[string]map[syndicate.State]int, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT channel_id, state, COUNT(*) FROM deliveries GROUP BY channel_id, state`)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	defer rows.Close()
	counts := make(map[string]map[syndicate.State]int)
	for rows.Next() {
		var (
			ch, state string
			n         int
		)
		if err := rows.Scan(&ch, &state, &n); err != nil {
			return nil, fmt.Errorf("count deliveries: %w", err)
		}
		if counts[ch] == nil {
			counts[ch] = make(map[syndicate.State]int)
		}
		counts[ch][syndicate.State(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	return counts, nil
}
