package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

const (
	articleHead = `a.id, a.feed_id, a.key, a.link, a.title, a.summary, `
	articleTail = `, a.image_url, a.image_caption, a.categories, a.related::text, a.language, a.author,
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
// decodes the times and related links once the row is scanned.
func articleDest(a *syndicate.Article) (dest []any, finish func() error) {
	var related string
	var published, updated, firstSeen time.Time
	dest = []any{&a.ID, &a.FeedID, &a.Key, &a.Link, &a.Title, &a.Summary, &a.ContentHTML,
		&a.ImageURL, &a.ImageCaption, &a.Categories, &related, &a.Language, &a.Author, &published, &updated,
		&a.Position, &a.Hash, &firstSeen, &a.CategoryLabels}
	return dest, func() error {
		a.Published, a.Updated, a.FirstSeen = goTime(published), goTime(updated), goTime(firstSeen)
		if len(a.Categories) == 0 {
			a.Categories = nil
		}
		if len(a.CategoryLabels) == 0 {
			a.CategoryLabels = nil
		}
		var err error
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
	var next, sortT, created, updated, sending time.Time
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
	err := scanArticle(s.pool.QueryRow(ctx, `SELECT `+articleCols+` FROM articles a WHERE a.id = $1`, id), &a)
	if err != nil {
		return a, fmt.Errorf("read article %d: %w", id, s.busy(ctx, notFound(err)))
	}
	return a, nil
}

// Delivery returns the delivery with the given id, or ErrNotFound.
func (s *Store) Delivery(ctx context.Context, id int64) (syndicate.Delivery, error) {
	var d syndicate.Delivery
	err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries d WHERE d.id = $1`, id), &d)
	if err != nil {
		return d, fmt.Errorf("read delivery %d: %w", id, s.busy(ctx, notFound(err)))
	}
	return d, nil
}

// limitArg is a LIMIT parameter: NULL (no limit) for n <= 0.
func limitArg(n int) any {
	if n <= 0 {
		return nil
	}
	return int64(n)
}

// DueDeliveries returns the channel's pending deliveries whose NextAttempt
// is not after now (a zero NextAttempt is due), by SortTime then ID. A
// limit of zero or less means no limit.
func (s *Store) DueDeliveries(ctx context.Context, channelID string, now time.Time, limit int) ([]syndicate.Delivery, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+deliveryCols+` FROM deliveries d
		WHERE d.channel_id = $1 AND d.state = 'pending' AND d.next_attempt <= $2
		ORDER BY d.sort_time, d.id
		LIMIT $3`, channelID, now, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("due deliveries of channel %q: %w", channelID, s.busy(ctx, err))
	}
	due, err := collectDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("due deliveries of channel %q: %w", channelID, s.busy(ctx, err))
	}
	return due, nil
}

func collectDeliveries(rows pgx.Rows) ([]syndicate.Delivery, error) {
	defer rows.Close()
	var out []syndicate.Delivery
	for rows.Next() {
		var d syndicate.Delivery
		if err := scanDelivery(rows, &d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// NextDue returns the earliest NextAttempt of the channel's pending
// deliveries (the zero time when one is due at once); ok is false when the
// channel has none pending.
func (s *Store) NextDue(ctx context.Context, channelID string) (time.Time, bool, error) {
	var next *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT MIN(next_attempt) FROM deliveries
		WHERE channel_id = $1 AND state = 'pending'`, channelID).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due delivery of channel %q: %w", channelID, s.busy(ctx, err))
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return goTime(*next), true, nil
}

// UpdateDelivery saves d's state, attempts, next attempt, last error,
// remote id and url, sending time and override if the stored row is still
// in state from; otherwise it returns ErrConflict (ErrNotFound for an
// unknown id) and changes nothing. UpdatedAt is set from the store's
// clock; the article, channel, SortTime and CreatedAt never change.
//
// Of several processes moving the same row from the same state at once,
// one wins: the others wait for its row lock, then find the row no longer
// in that state (READ COMMITTED re-reads it).
func (s *Store) UpdateDelivery(ctx context.Context, d syndicate.Delivery, from syndicate.State) error {
	var exists bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE deliveries SET state = $1, attempts = $2, next_attempt = $3, last_error = $4,
				remote_id = $5, remote_url = $6, sending_since = $7, override = $8, updated_at = $9, owner = $12
			WHERE id = $10 AND state = $11`,
			string(d.State), d.Attempts, d.NextAttempt, d.LastError, d.RemoteID,
			d.RemoteURL, d.SendingSince, d.Override, s.now(), d.ID, string(from), d.Owner)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			exists = true
			return nil
		}
		// Deliveries are never deleted, so the row, if it exists, was moved.
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)`, d.ID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return syndicate.ErrNotFound
		}
		return fmt.Errorf("from %s: %w", from, syndicate.ErrConflict)
	}, changedDelivery)
	if err != nil {
		return fmt.Errorf("update delivery %d: %w", d.ID, err)
	}
	return nil
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
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.ArticleID != 0 {
		where = append(where, "a.id = "+arg(f.ArticleID))
	}
	if f.FeedID != "" {
		where = append(where, "a.feed_id = "+arg(f.FeedID))
	}
	if f.ChannelID != "" {
		where = append(where, "d.channel_id = "+arg(f.ChannelID))
	}
	if len(f.States) > 0 {
		where = append(where, "d.state = ANY("+arg(stateStrings(f.States))+"::text[])")
	}
	query := `SELECT ` + deliveryCols + `, ` + articleViewCols + `
		FROM deliveries d JOIN articles a ON a.id = d.article_id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY a.sort_time DESC, d.id DESC LIMIT " + arg(limitArg(f.Limit))

	views, err := s.queryViews(ctx, query, args)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", s.busy(ctx, err))
	}
	slices.Reverse(views)
	return views, nil
}

func stateStrings(states []syndicate.State) []string {
	out := make([]string, len(states))
	for i, st := range states {
		out[i] = string(st)
	}
	return out
}

func (s *Store) queryViews(ctx context.Context, query string, args []any) ([]syndicate.DeliveryView, error) {
	rows, err := s.pool.Query(ctx, query, args...)
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
	rows, err := s.pool.Query(ctx, `SELECT channel_id, state, COUNT(*) FROM deliveries GROUP BY channel_id, state`)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", s.busy(ctx, err))
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
		return nil, fmt.Errorf("count deliveries: %w", s.busy(ctx, err))
	}
	return counts, nil
}
