package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// RecordPoll writes one poll's outcome in a single transaction: the feed
// state, the new articles, the aliases, the updated articles, the routes
// and the new deliveries, in that order. Recording the same outcome twice
// changes nothing the first did not (keys, aliases, routes and deliveries
// already present are skipped), so overlapping polls of one feed are safe.
//
// The feed is rec.State.FeedID; an article with an empty FeedID takes it,
// one with another FeedID is an error. A new article keeps a FirstSeen set
// by the caller, else gets the store's clock. An updated article is found by
// ID when set, else by its key or alias key; everything but its identity
// (feed, key, link) and FirstSeen is replaced. A NewDelivery names an
// article of the feed by key or alias key; a zero SortTime takes the
// article's SortTime. Any error rolls back the whole poll.
func (s *Store) RecordPoll(ctx context.Context, rec syndicate.PollRecord) error {
	feed := rec.State.FeedID
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := saveFeedState(ctx, s.writer(tx), rec.State); err != nil {
			return fmt.Errorf("feed state: %w", err)
		}
		p := &pollTx{ctx: ctx, tx: tx, feed: feed, now: s.now(), refs: make(map[string]articleRef)}
		defer p.close()
		for _, step := range []func(syndicate.PollRecord) error{
			p.insertArticles, p.insertAliases, p.updateArticles, p.insertRoutes, p.insertDeliveries,
		} {
			if err := step(rec); err != nil {
				return err
			}
		}
		if rec.Release.Name != "" {
			if err := releaseLease(ctx, s.writer(tx), rec.Release); err != nil {
				return fmt.Errorf("release lease %q: %w", rec.Release.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record poll of feed %q: %w", feed, err)
	}
	return nil
}

// pollTx is one RecordPoll under way.
type pollTx struct {
	ctx   context.Context
	tx    *sql.Tx
	feed  string
	now   time.Time
	refs  map[string]articleRef // by key, the articles this poll inserted
	stmts []*sql.Stmt
}

// articleRef is what a delivery needs of its article.
type articleRef struct {
	id         int64
	dedupeLink string
	sortTime   time.Time
	firstSeen  time.Time
}

func (p *pollTx) prepare(query string) (*sql.Stmt, error) {
	st, err := p.tx.PrepareContext(p.ctx, query)
	if err == nil {
		p.stmts = append(p.stmts, st)
	}
	return st, err
}

func (p *pollTx) close() {
	for _, st := range p.stmts {
		st.Close()
	}
}

// insertArticles inserts the new articles with one statement each: a
// key already recorded, as an article or as an alias, is skipped.
func (p *pollTx) insertArticles(rec syndicate.PollRecord) error {
	if len(rec.Articles) == 0 {
		return nil
	}
	insert, err := p.prepare(`
		INSERT INTO articles (feed_id, key, link, dedupe_link, title, summary, content_html,
			image_url, image_caption, categories, related, language, author, published, updated,
			position, hash, first_seen, sort_time, category_labels)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20
		WHERE NOT EXISTS (SELECT 1 FROM article_aliases WHERE feed_id = ?1 AND key = ?2)
		ON CONFLICT (feed_id, key) DO NOTHING`)
	if err != nil {
		return err
	}
	for _, a := range rec.Articles {
		if err := p.insertArticle(insert, a); err != nil {
			return fmt.Errorf("article %q: %w", a.Key, err)
		}
	}
	return nil
}

func (p *pollTx) insertArticle(insert *sql.Stmt, a syndicate.Article) error {
	if err := p.own(&a); err != nil {
		return err
	}
	if a.FirstSeen.IsZero() {
		a.FirstSeen = p.now
	}
	cats, related, labels, err := encodeLists(a)
	if err != nil {
		return err
	}
	res, err := insert.ExecContext(p.ctx, p.feed, a.Key, a.Link, a.DedupeLink(), a.Title, a.Summary,
		a.ContentHTML, a.ImageURL, a.ImageCaption, cats, related, a.Language, a.Author,
		dbTime(a.Published), dbTime(a.Updated), a.Position, a.Hash,
		dbTime(a.FirstSeen), dbTime(a.SortTime()), labels)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // already known as an alias, or recorded before by an overlapping poll
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	p.refs[a.Key] = articleRef{id: id, dedupeLink: a.DedupeLink(), sortTime: a.SortTime(), firstSeen: a.FirstSeen}
	return nil
}

// encodeLists encodes the article's categories, related links and
// category labels as JSON.
func encodeLists(a syndicate.Article) (cats, related, labels string, err error) {
	if cats, err = encodeCategories(a.Categories); err != nil {
		return "", "", "", fmt.Errorf("categories: %w", err)
	}
	if related, err = encodeRelated(a.Related); err != nil {
		return "", "", "", fmt.Errorf("related links: %w", err)
	}
	if labels, err = encodeCategories(a.CategoryLabels); err != nil {
		return "", "", "", fmt.Errorf("category labels: %w", err)
	}
	return cats, related, labels, nil
}

// own checks that a belongs to the polled feed, and fills in its FeedID.
func (p *pollTx) own(a *syndicate.Article) error {
	if a.Key == "" {
		return errors.New("empty key")
	}
	if a.FeedID == "" {
		a.FeedID = p.feed
	}
	if a.FeedID != p.feed {
		return fmt.Errorf("article of feed %q in a poll of feed %q", a.FeedID, p.feed)
	}
	return nil
}

func (p *pollTx) insertAliases(rec syndicate.PollRecord) error {
	for _, al := range rec.Aliases {
		if err := p.insertAlias(al); err != nil {
			return fmt.Errorf("alias %q of %q: %w", al.Key, al.Link, err)
		}
	}
	return nil
}

func (p *pollTx) insertAlias(al syndicate.Alias) error {
	if al.Key == "" || al.Link == "" {
		return errors.New("alias needs a key and a link")
	}
	var n int
	err := p.tx.QueryRowContext(p.ctx,
		`SELECT COUNT(*) FROM articles WHERE feed_id = ? AND key = ?`, p.feed, al.Key).Scan(&n)
	if err != nil || n > 0 {
		return err // the key is an article's own
	}
	var id int64
	err = p.tx.QueryRowContext(p.ctx,
		`SELECT id FROM articles WHERE feed_id = ? AND link = ? ORDER BY id LIMIT 1`,
		p.feed, al.Link).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("no article of the feed has this link: %w", syndicate.ErrNotFound)
	}
	if err != nil {
		return err
	}
	_, err = p.tx.ExecContext(p.ctx, `
		INSERT INTO article_aliases (feed_id, key, article_id, link, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (feed_id, key) DO NOTHING`,
		p.feed, al.Key, id, al.Link, dbTime(p.now))
	return err
}

func (p *pollTx) updateArticles(rec syndicate.PollRecord) error {
	for _, a := range rec.Updated {
		if err := p.updateArticle(a); err != nil {
			return fmt.Errorf("update article %q (id %d): %w", a.Key, a.ID, err)
		}
	}
	return nil
}

func (p *pollTx) updateArticle(a syndicate.Article) error {
	if a.FeedID == "" {
		a.FeedID = p.feed
	}
	if a.FeedID != p.feed {
		return fmt.Errorf("article of feed %q in a poll of feed %q", a.FeedID, p.feed)
	}
	ref, err := p.find(a)
	if err != nil {
		return err
	}
	a.FirstSeen = ref.firstSeen
	cats, related, labels, err := encodeLists(a)
	if err != nil {
		return err
	}
	_, err = p.tx.ExecContext(p.ctx, `
		UPDATE articles SET title = ?, summary = ?, content_html = ?, image_url = ?,
			image_caption = ?, categories = ?, related = ?, language = ?, author = ?,
			published = ?, updated = ?, position = ?, hash = ?, sort_time = ?, category_labels = ?
		WHERE id = ?`,
		a.Title, a.Summary, a.ContentHTML, a.ImageURL, a.ImageCaption, cats, related, a.Language,
		a.Author, dbTime(a.Published), dbTime(a.Updated), a.Position, a.Hash,
		dbTime(a.SortTime()), labels, ref.id)
	if err != nil {
		return err
	}
	ref.sortTime = a.SortTime()
	if _, ok := p.refs[a.Key]; ok {
		p.refs[a.Key] = ref
	}
	return nil
}

// find returns the article a names: by ID when set, else by key.
func (p *pollTx) find(a syndicate.Article) (articleRef, error) {
	if a.ID == 0 {
		return p.resolve(a.Key)
	}
	var (
		ref              articleRef
		feed             string
		sortT, firstSeen int64
	)
	err := p.tx.QueryRowContext(p.ctx,
		`SELECT id, feed_id, dedupe_link, sort_time, first_seen FROM articles WHERE id = ?`, a.ID).
		Scan(&ref.id, &feed, &ref.dedupeLink, &sortT, &firstSeen)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && feed != p.feed) {
		return ref, fmt.Errorf("no article %d in the feed: %w", a.ID, syndicate.ErrNotFound)
	}
	ref.sortTime, ref.firstSeen = goTime(sortT), goTime(firstSeen)
	return ref, err
}

// resolve finds the article of the feed with key as its key or an alias.
func (p *pollTx) resolve(key string) (articleRef, error) {
	if ref, ok := p.refs[key]; ok {
		return ref, nil
	}
	var (
		ref              articleRef
		sortT, firstSeen int64
	)
	err := p.tx.QueryRowContext(p.ctx, `
		SELECT id, dedupe_link, sort_time, first_seen FROM articles
		WHERE id = COALESCE(
			(SELECT id FROM articles WHERE feed_id = ?1 AND key = ?2),
			(SELECT article_id FROM article_aliases WHERE feed_id = ?1 AND key = ?2))`,
		p.feed, key).Scan(&ref.id, &ref.dedupeLink, &sortT, &firstSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return ref, fmt.Errorf("no article with key %q in the feed: %w", key, syndicate.ErrNotFound)
	}
	ref.sortTime, ref.firstSeen = goTime(sortT), goTime(firstSeen)
	return ref, err
}

func (p *pollTx) insertRoutes(rec syndicate.PollRecord) error {
	for _, ch := range rec.Routes {
		if ch == "" {
			return errors.New("route to an empty channel id")
		}
		_, err := p.tx.ExecContext(p.ctx, `
			INSERT INTO routes (feed_id, channel_id, established_at) VALUES (?, ?, ?)
			ON CONFLICT (feed_id, channel_id) DO NOTHING`, p.feed, ch, dbTime(p.now))
		if err != nil {
			return fmt.Errorf("route to %q: %w", ch, err)
		}
	}
	return nil
}

func (p *pollTx) insertDeliveries(rec syndicate.PollRecord) error {
	if len(rec.Deliveries) == 0 {
		return nil
	}
	// ON CONFLICT without a target skips a row that would break either
	// UNIQUE constraint: the same article, or the same link, on the channel.
	insert, err := p.prepare(`
		INSERT INTO deliveries (article_id, channel_id, dedupe_link, state, attempts,
			next_attempt, last_error, remote_id, remote_url, sort_time, sending_since,
			created_at, updated_at)
		VALUES (?, ?, ?, ?, 0, ?, '', '', '', ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return err
	}
	zero, now := dbTime(time.Time{}), dbTime(p.now)
	for _, nd := range rec.Deliveries {
		if err := p.insertDelivery(insert, nd, zero, now); err != nil {
			return fmt.Errorf("delivery of %q to %q: %w", nd.ArticleKey, nd.ChannelID, err)
		}
	}
	return nil
}

func (p *pollTx) insertDelivery(insert *sql.Stmt, nd syndicate.NewDelivery, zero, now int64) error {
	if nd.State != syndicate.StatePending && nd.State != syndicate.StateHeld && nd.State != syndicate.StateReview {
		return fmt.Errorf("new delivery in state %q, want pending, held or review", nd.State)
	}
	if nd.ChannelID == "" {
		return errors.New("empty channel id")
	}
	ref, err := p.resolve(nd.ArticleKey)
	if err != nil {
		return err
	}
	sortTime := nd.SortTime
	if sortTime.IsZero() {
		sortTime = ref.sortTime
	}
	_, err = insert.ExecContext(p.ctx, ref.id, nd.ChannelID, ref.dedupeLink, string(nd.State),
		zero, dbTime(sortTime), zero, now, now)
	return err
}
