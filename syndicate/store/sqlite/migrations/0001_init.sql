-- Times are INTEGER microseconds since the Unix epoch, UTC. The zero
-- time.Time (year 1) is stored as its own value, -62135596800000000, so it
-- sorts before every real time: a zero next_attempt is due.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE feeds (
	feed_id       TEXT PRIMARY KEY,
	etag          TEXT NOT NULL,
	last_modified TEXT NOT NULL,
	last_poll_at  INTEGER NOT NULL,
	last_ok_at    INTEGER NOT NULL,
	last_error    TEXT NOT NULL,
	failures      INTEGER NOT NULL,
	next_poll_at  INTEGER NOT NULL
) STRICT;

-- AUTOINCREMENT: ids are shown to editors and must never be reused.
CREATE TABLE articles (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	feed_id       TEXT NOT NULL,
	key           TEXT NOT NULL,
	link          TEXT NOT NULL,
	dedupe_link   TEXT NOT NULL,
	title         TEXT NOT NULL,
	summary       TEXT NOT NULL,
	content_html  TEXT NOT NULL,
	image_url     TEXT NOT NULL,
	image_caption TEXT NOT NULL,
	categories    TEXT NOT NULL, -- JSON array of strings
	language      TEXT NOT NULL,
	author        TEXT NOT NULL,
	published     INTEGER NOT NULL,
	updated       INTEGER NOT NULL,
	position      INTEGER NOT NULL,
	hash          TEXT NOT NULL,
	first_seen    INTEGER NOT NULL,
	sort_time     INTEGER NOT NULL, -- Article.SortTime(), kept for ordering
	UNIQUE (feed_id, key)
) STRICT;

CREATE INDEX articles_feed_link ON articles (feed_id, link);
-- ListDeliveries walks the articles newest first.
CREATE INDEX articles_sort ON articles (sort_time);
CREATE INDEX articles_feed_sort ON articles (feed_id, sort_time);

CREATE TABLE article_aliases (
	feed_id    TEXT NOT NULL,
	key        TEXT NOT NULL,
	article_id INTEGER NOT NULL REFERENCES articles (id),
	link       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (feed_id, key)
) STRICT;

CREATE INDEX article_aliases_article ON article_aliases (article_id);

CREATE TABLE routes (
	feed_id        TEXT NOT NULL,
	channel_id     TEXT NOT NULL,
	established_at INTEGER NOT NULL,
	PRIMARY KEY (feed_id, channel_id)
) STRICT;

CREATE TABLE deliveries (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	article_id    INTEGER NOT NULL REFERENCES articles (id),
	channel_id    TEXT NOT NULL,
	dedupe_link   TEXT NOT NULL,
	state         TEXT NOT NULL CHECK (state IN
		('pending', 'sending', 'sent', 'failed', 'held', 'skipped', 'uncertain')),
	attempts      INTEGER NOT NULL,
	next_attempt  INTEGER NOT NULL,
	last_error    TEXT NOT NULL,
	remote_id     TEXT NOT NULL,
	remote_url    TEXT NOT NULL,
	sort_time     INTEGER NOT NULL,
	sending_since INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	UNIQUE (article_id, channel_id),
	-- One canonical link is never sent twice to the same channel.
	UNIQUE (channel_id, dedupe_link)
) STRICT;

-- A channel's queue in sending order (the rowid, id, ends every index);
-- next_attempt lets the due test run on the index alone.
CREATE INDEX deliveries_queue ON deliveries (channel_id, state, sort_time, next_attempt);
-- NextDue.
CREATE INDEX deliveries_next ON deliveries (channel_id, state, next_attempt);
