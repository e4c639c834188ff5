package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// RecordPoll writes one poll's outcome in a single transaction: the feed
// state, the new articles, the aliases, the updated articles, the routes
// and the new deliveries, in that order; see the SQLite store, whose
// semantics it shares. Recording the same outcome twice changes nothing
// the first did not, also when two processes record it at once: the feed
// state's upsert, the transaction's first statement, makes the second wait
// for the first to commit, and everything after it skips what is there.
func (s *Store) RecordPoll(ctx context.Context, rec syndicate.PollRecord) error {
	feed := rec.State.FeedID
	if len(pollChanges(rec)) == 0 {
		if err := s.recordState(ctx, rec); err != nil {
			return fmt.Errorf("record poll of feed %q: %w", feed, err)
		}
		return nil
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := saveFeedState(ctx, tx, rec.State); err != nil {
			return fmt.Errorf("feed state: %w", err)
		}
		p := &pollTx{ctx: ctx, tx: tx, feed: feed, now: s.now()}
		for _, step := range []func(syndicate.PollRecord) error{
			p.insertArticles, p.insertAliases, p.updateArticles, p.insertRoutes, p.insertDeliveries,
		} {
			if err := step(rec); err != nil {
				return err
			}
		}
		if rec.Release.Name != "" {
			if _, err := tx.Exec(ctx, releaseLeaseQuery, rec.Release.Name, rec.Release.Owner, time.Time{}); err != nil {
				return fmt.Errorf("release lease %q: %w", rec.Release.Name, err)
			}
		}
		return nil
	}, pollChanges(rec)...)
	if err != nil {
		return fmt.Errorf("record poll of feed %q: %w", feed, err)
	}
	return nil
}

// recordState records a poll that found nothing new (a 304, a failed
// fetch, a document of known articles only): the feed's state and the
// lease's release, in one statement (one round trip).
func (s *Store) recordState(ctx context.Context, rec syndicate.PollRecord) error {
	args, err := feedStateArgs(rec.State)
	if err != nil {
		return fmt.Errorf("feed state: %w", err)
	}
	args = append(args, rec.Release.Name, rec.Release.Owner, time.Time{})
	return s.retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, recordStateQuery, args...)
		return err
	})
}

// recordStateQuery is saveFeedStateQuery with the lease $12 released if
// $13 holds it ($12 is "" for none), as releaseLeaseQuery releases it.
const recordStateQuery = `
		WITH released AS (UPDATE leases SET owner = '', until = $14 WHERE name = $12 AND owner = $13)
		` + saveFeedStateQuery

// pollChanges is what a recorded poll tells other processes: nothing when
// only the feed's state changed (a 304, a failed fetch), which no other
// process acts on.
func pollChanges(rec syndicate.PollRecord) []string {
	if len(rec.Articles)+len(rec.Aliases)+len(rec.Updated)+len(rec.Deliveries)+len(rec.Routes) == 0 {
		return nil
	}
	return []string{changedPoll}
}

// pollTx is one RecordPoll under way.
type pollTx struct {
	ctx  context.Context
	tx   pgx.Tx
	feed string
	now  time.Time
}

// articleRef is what a delivery needs of its article.
type articleRef struct {
	id         int64
	dedupeLink string
	sortTime   time.Time
	firstSeen  time.Time
}

// insertArticles inserts the new articles in one statement (one round
// trip, one execution): the columns go as arrays, unnested in the poll's
// order, the categories and category labels of each article as JSON
// arrays. A key already
// recorded, as an article or as an alias, is skipped; of two articles of
// the poll with one key, the first is kept.
func (p *pollTx) insertArticles(rec syndicate.PollRecord) error {
	if len(rec.Articles) == 0 {
		return nil
	}
	n := len(rec.Articles)
	var (
		keys, links, dedupe, titles, summaries = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		contents, images, captions, cats       = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		related, languages, authors, hashes    = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		published, updated, firstSeen, sortT   = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		labels                                 = make([]string, n)
		positions                              = make([]int32, n)
	)
	for i, a := range rec.Articles {
		if err := p.own(&a); err != nil {
			return fmt.Errorf("article %q: %w", a.Key, err)
		}
		if a.FirstSeen.IsZero() {
			a.FirstSeen = p.now
		}
		var err error
		if related[i], err = encodeRelated(a.Related); err != nil {
			return fmt.Errorf("article %q: related links: %w", a.Key, err)
		}
		c, err := json.Marshal(categories(a.Categories))
		if err != nil {
			return fmt.Errorf("article %q: categories: %w", a.Key, err)
		}
		l, err := json.Marshal(categories(a.CategoryLabels))
		if err != nil {
			return fmt.Errorf("article %q: category labels: %w", a.Key, err)
		}
		keys[i], links[i], dedupe[i], titles[i], summaries[i] = a.Key, a.Link, a.DedupeLink(), a.Title, a.Summary
		contents[i], images[i], captions[i], cats[i], labels[i] = a.ContentHTML, a.ImageURL, a.ImageCaption, string(c), string(l)
		languages[i], authors[i], hashes[i] = a.Language, a.Author, a.Hash
		published[i], updated[i], firstSeen[i], sortT[i] = a.Published, a.Updated, a.FirstSeen, a.SortTime()
		positions[i] = int32(a.Position)
	}
	_, err := p.tx.Exec(p.ctx, `
		INSERT INTO articles (feed_id, key, link, dedupe_link, title, summary, content_html,
			image_url, image_caption, categories, related, language, author, published, updated,
			position, hash, first_seen, sort_time, category_labels)
		SELECT $1::text, a.key, a.link, a.dedupe_link, a.title, a.summary, a.content_html,
			a.image_url, a.image_caption,
			ARRAY(SELECT c.value FROM jsonb_array_elements_text(a.categories::jsonb) WITH ORDINALITY AS c(value, n) ORDER BY c.n),
			a.related::jsonb, a.language, a.author, a.published, a.updated, a.position, a.hash,
			a.first_seen, a.sort_time,
			ARRAY(SELECT c.value FROM jsonb_array_elements_text(a.category_labels::jsonb) WITH ORDINALITY AS c(value, n) ORDER BY c.n)
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
			$14::timestamptz[], $15::timestamptz[], $16::integer[], $17::text[],
			$18::timestamptz[], $19::timestamptz[], $20::text[])
			WITH ORDINALITY AS a(key, link, dedupe_link, title, summary, content_html, image_url,
				image_caption, categories, related, language, author, published, updated, position,
				hash, first_seen, sort_time, category_labels, n)
		WHERE NOT EXISTS (SELECT 1 FROM article_aliases
			WHERE feed_id = $1 AND md5(key) = md5(a.key) AND key = a.key)
		ORDER BY a.n
		ON CONFLICT DO NOTHING`,
		p.feed, keys, links, dedupe, titles, summaries, contents, images, captions, cats, related,
		languages, authors, published, updated, positions, hashes, firstSeen, sortT, labels)
	if err != nil {
		return fmt.Errorf("articles: %w", err)
	}
	return nil
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
	var own bool
	err := p.tx.QueryRow(p.ctx, `SELECT EXISTS (SELECT 1 FROM articles
		WHERE feed_id = $1 AND md5(key) = md5($2) AND key = $2)`, p.feed, al.Key).Scan(&own)
	if err != nil || own {
		return err // the key is an article's own
	}
	var id int64
	err = p.tx.QueryRow(p.ctx, `SELECT id FROM articles
		WHERE feed_id = $1 AND md5(link) = md5($2) AND link = $2 ORDER BY id LIMIT 1`,
		p.feed, al.Link).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("no article of the feed has this link: %w", syndicate.ErrNotFound)
	}
	if err != nil {
		return err
	}
	_, err = p.tx.Exec(p.ctx, `
		INSERT INTO article_aliases (feed_id, key, article_id, link, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, p.feed, al.Key, id, al.Link, p.now)
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
	a.FirstSeen = ref.firstSeen // SortTime of an undated article
	related, err := encodeRelated(a.Related)
	if err != nil {
		return fmt.Errorf("related links: %w", err)
	}
	_, err = p.tx.Exec(p.ctx, `
		UPDATE articles SET title = $1, summary = $2, content_html = $3, image_url = $4,
			image_caption = $5, categories = $6, related = $7, language = $8, author = $9,
			published = $10, updated = $11, position = $12, hash = $13, sort_time = $14, category_labels = $16
		WHERE id = $15`,
		a.Title, a.Summary, a.ContentHTML, a.ImageURL, a.ImageCaption, categories(a.Categories),
		related, a.Language, a.Author, a.Published, a.Updated, a.Position, a.Hash, a.SortTime(), ref.id,
		categories(a.CategoryLabels))
	return err
}

// find returns the article a names: by ID when set, else by key.
func (p *pollTx) find(a syndicate.Article) (articleRef, error) {
	if a.ID == 0 {
		refs, err := p.resolve([]string{a.Key})
		if err != nil {
			return articleRef{}, err
		}
		ref, ok := refs[a.Key]
		if !ok {
			return ref, fmt.Errorf("no article with key %q in the feed: %w", a.Key, syndicate.ErrNotFound)
		}
		return ref, nil
	}
	var (
		ref              articleRef
		feed             string
		sortT, firstSeen time.Time
	)
	err := p.tx.QueryRow(p.ctx,
		`SELECT id, feed_id, dedupe_link, sort_time, first_seen FROM articles WHERE id = $1`, a.ID).
		Scan(&ref.id, &feed, &ref.dedupeLink, &sortT, &firstSeen)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && feed != p.feed) {
		return ref, fmt.Errorf("no article %d in the feed: %w", a.ID, syndicate.ErrNotFound)
	}
	ref.sortTime, ref.firstSeen = goTime(sortT), goTime(firstSeen)
	return ref, err
}

// resolve finds the articles of the feed with the given keys as their key
// or an alias (the article's own key first), as the transaction sees them:
// the articles of this poll included.
func (p *pollTx) resolve(keys []string) (map[string]articleRef, error) {
	rows, err := p.tx.Query(p.ctx, `
		SELECT k.key, a.id, a.dedupe_link, a.sort_time, a.first_seen, 0 AS via_alias
		FROM unnest($2::text[]) AS k(key)
		JOIN articles a ON a.feed_id = $1 AND md5(a.key) = md5(k.key) AND a.key = k.key
		UNION ALL
		SELECT k.key, a.id, a.dedupe_link, a.sort_time, a.first_seen, 1
		FROM unnest($2::text[]) AS k(key)
		JOIN article_aliases al ON al.feed_id = $1 AND md5(al.key) = md5(k.key) AND al.key = k.key
		JOIN articles a ON a.id = al.article_id
		ORDER BY via_alias`, p.feed, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	refs := make(map[string]articleRef)
	for rows.Next() {
		var (
			key              string
			ref              articleRef
			sortT, firstSeen time.Time
			via              int
		)
		if err := rows.Scan(&key, &ref.id, &ref.dedupeLink, &sortT, &firstSeen, &via); err != nil {
			return nil, err
		}
		if _, dup := refs[key]; !dup {
			ref.sortTime, ref.firstSeen = goTime(sortT), goTime(firstSeen)
			refs[key] = ref
		}
	}
	return refs, rows.Err()
}

func (p *pollTx) insertRoutes(rec syndicate.PollRecord) error {
	if len(rec.Routes) == 0 {
		return nil
	}
	for _, ch := range rec.Routes {
		if ch == "" {
			return errors.New("route to an empty channel id")
		}
	}
	_, err := p.tx.Exec(p.ctx, `
		INSERT INTO routes (feed_id, channel_id, established_at)
		SELECT DISTINCT $1::text, ch, $3::timestamptz FROM unnest($2::text[]) AS ch
		ON CONFLICT (feed_id, channel_id) DO NOTHING`, p.feed, rec.Routes, p.now)
	if err != nil {
		return fmt.Errorf("routes: %w", err)
	}
	return nil
}

// insertDeliveries resolves every key named in one query, then inserts
// the deliveries in one batch. ON CONFLICT without a target skips a row
// that would break either unique constraint: the same article, or the
// same link, on the channel.
func (p *pollTx) insertDeliveries(rec syndicate.PollRecord) error {
	if len(rec.Deliveries) == 0 {
		return nil
	}
	keys := make([]string, 0, len(rec.Deliveries))
	for _, nd := range rec.Deliveries {
		if nd.State != syndicate.StatePending && nd.State != syndicate.StateHeld && nd.State != syndicate.StateReview {
			return fmt.Errorf("delivery of %q to %q: new delivery in state %q, want pending, held or review",
				nd.ArticleKey, nd.ChannelID, nd.State)
		}
		if nd.ChannelID == "" {
			return fmt.Errorf("delivery of %q: empty channel id", nd.ArticleKey)
		}
		keys = append(keys, nd.ArticleKey)
	}
	refs, err := p.resolve(keys)
	if err != nil {
		return fmt.Errorf("deliveries: %w", err)
	}
	b := &pgx.Batch{}
	zero := time.Time{}
	for _, nd := range rec.Deliveries {
		ref, ok := refs[nd.ArticleKey]
		if !ok {
			return fmt.Errorf("delivery of %q to %q: no article with key %q in the feed: %w",
				nd.ArticleKey, nd.ChannelID, nd.ArticleKey, syndicate.ErrNotFound)
		}
		sortTime := nd.SortTime
		if sortTime.IsZero() {
			sortTime = ref.sortTime
		}
		b.Queue(`
			INSERT INTO deliveries (article_id, channel_id, dedupe_link, state, attempts,
				next_attempt, last_error, remote_id, remote_url, sort_time, sending_since,
				created_at, updated_at)
			VALUES ($1, $2, $3, $4, 0, $5, '', '', '', $6, $5, $7, $7)
			ON CONFLICT DO NOTHING`,
			ref.id, nd.ChannelID, ref.dedupeLink, string(nd.State), zero, sortTime, p.now)
	}
	if err := p.tx.SendBatch(p.ctx, b).Close(); err != nil {
		return fmt.Errorf("deliveries: %w", err)
	}
	return nil
}
