-- The schema of the SQLite store (its migrations 1 to 6), in PostgreSQL's
-- idiom.
--
-- Times are timestamptz: microseconds, as the SQLite store keeps them. A
-- time not set (Go's zero time.Time) is stored as its own value,
-- 0001-01-01 00:00:00 UTC, so it sorts before every real time: a zero
-- next_attempt is due, a zero finished_at is a digest still open.
--
-- Ids are identity columns: shown to editors, written into the ledger
-- ("digest:<id>"), and never reused (a sequence never goes back, even
-- when a transaction rolls back).
--
-- Keys and links come from feeds and may be of any length; a B-tree entry
-- may not (about 2.7 kB). The indexes on them are on md5(), and the
-- lookups compare both md5() and the text itself.

CREATE TABLE meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);

CREATE TABLE feeds (
	feed_id       text PRIMARY KEY,
	etag          text NOT NULL,
	last_modified text NOT NULL,
	last_poll_at  timestamptz NOT NULL,
	last_ok_at    timestamptz NOT NULL,
	last_error    text NOT NULL,
	failures      integer NOT NULL,
	next_poll_at  timestamptz NOT NULL,
	-- FeedState.GoneURL (answered 410) and MovedFrom → MovedTo (a
	-- permanent redirect); empty when none.
	gone_url      text NOT NULL DEFAULT '',
	moved_from    text NOT NULL DEFAULT '',
	moved_to      text NOT NULL DEFAULT ''
);

CREATE TABLE articles (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	feed_id       text NOT NULL,
	key           text NOT NULL,
	link          text NOT NULL,
	dedupe_link   text NOT NULL,
	title         text NOT NULL,
	summary       text NOT NULL,
	content_html  text NOT NULL,
	image_url     text NOT NULL,
	image_caption text NOT NULL,
	categories    text[] NOT NULL,
	-- The "Read also" links: a JSON array of {"title": …, "url": …}.
	related       jsonb NOT NULL DEFAULT '[]',
	language      text NOT NULL,
	author        text NOT NULL,
	published     timestamptz NOT NULL,
	updated       timestamptz NOT NULL,
	position      integer NOT NULL,
	hash          text NOT NULL,
	first_seen    timestamptz NOT NULL,
	sort_time     timestamptz NOT NULL -- Article.SortTime(), kept for ordering
);

CREATE UNIQUE INDEX articles_feed_key ON articles (feed_id, md5(key));
CREATE INDEX articles_feed_link ON articles (feed_id, md5(link));
-- ListDeliveries and ListArticles walk the articles newest first.
CREATE INDEX articles_sort ON articles (sort_time, id);
CREATE INDEX articles_feed_sort ON articles (feed_id, sort_time, id);

CREATE TABLE article_aliases (
	feed_id    text NOT NULL,
	key        text NOT NULL,
	article_id bigint NOT NULL REFERENCES articles (id),
	link       text NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX article_aliases_feed_key ON article_aliases (feed_id, md5(key));
CREATE INDEX article_aliases_article ON article_aliases (article_id);

CREATE TABLE routes (
	feed_id        text NOT NULL,
	channel_id     text NOT NULL,
	established_at timestamptz NOT NULL,
	PRIMARY KEY (feed_id, channel_id)
);

CREATE TABLE deliveries (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	article_id    bigint NOT NULL REFERENCES articles (id),
	channel_id    text NOT NULL,
	dedupe_link   text NOT NULL,
	state         text NOT NULL CHECK (state IN
		('pending', 'sending', 'sent', 'failed', 'held', 'review', 'skipped', 'uncertain')),
	attempts      integer NOT NULL,
	next_attempt  timestamptz NOT NULL,
	last_error    text NOT NULL,
	remote_id     text NOT NULL,
	remote_url    text NOT NULL,
	sort_time     timestamptz NOT NULL,
	sending_since timestamptz NOT NULL,
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL,
	-- The editor's text for this channel; empty: the channel renders it.
	override      text NOT NULL DEFAULT '',
	UNIQUE (article_id, channel_id)
);

-- One canonical link is never sent twice to the same channel.
CREATE UNIQUE INDEX deliveries_channel_link ON deliveries (channel_id, md5(dedupe_link));
-- A channel's queue in sending order, and its next due time.
CREATE INDEX deliveries_queue ON deliveries (channel_id, sort_time, id) WHERE state = 'pending';
CREATE INDEX deliveries_next ON deliveries (channel_id, next_attempt) WHERE state = 'pending';
-- Status pages by channel and state; a crash's "sending" ones at start.
CREATE INDEX deliveries_channel_state ON deliveries (channel_id, state);
CREATE INDEX deliveries_state ON deliveries (state);

-- One WebSub subscription per feed.
CREATE TABLE subscriptions (
	feed_id     text PRIMARY KEY,
	hub         text NOT NULL,
	topic       text NOT NULL,
	secret      text NOT NULL,
	state       text NOT NULL,
	lease_until timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);

-- Email subscribers: one row per address and list. email is kept as
-- given (its domain lower-cased by the caller); email_key is email
-- lower-cased whole by the store (Go's strings.ToLower, so Unicode too,
-- whatever the database's locale), which makes an address unique per list
-- whatever its case.
CREATE TABLE subscribers (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	list            text NOT NULL,
	email           text NOT NULL,
	email_key       text NOT NULL,
	name            text NOT NULL,
	state           text NOT NULL CHECK (state IN ('pending', 'confirmed', 'unsubscribed')),
	created_at      timestamptz NOT NULL,
	confirmed_at    timestamptz NOT NULL,
	unsubscribed_at timestamptz NOT NULL,
	UNIQUE (list, email_key)
);

-- A digest pages through the confirmed subscribers of a list in id order.
CREATE INDEX subscribers_list_state ON subscribers (list, state, id);

-- When each digest channel's schedule was last honoured, and the last
-- period made.
CREATE TABLE digest_clocks (
	channel_id text PRIMARY KEY,
	last_at    timestamptz NOT NULL,
	period     text NOT NULL
);

-- One row per digest; one digest per channel and period.
CREATE TABLE digests (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	channel_id  text NOT NULL,
	period      text NOT NULL,
	articles    bigint[] NOT NULL, -- article ids, oldest first
	created_at  timestamptz NOT NULL,
	finished_at timestamptz NOT NULL,
	UNIQUE (channel_id, period)
);

CREATE INDEX digests_open ON digests (channel_id, finished_at);

-- One record per message of a digest. A subscriber without one has not
-- been mailed yet. A message is claimed (under a lease) before it is
-- mailed, and becomes "sending" only as its own SMTP transaction begins.
CREATE TABLE digest_recipients (
	digest_id     bigint NOT NULL REFERENCES digests (id),
	subscriber_id bigint NOT NULL REFERENCES subscribers (id),
	state         text NOT NULL CHECK (state IN
		('claimed', 'sending', 'sent', 'deferred', 'failed', 'uncertain')),
	attempts      integer NOT NULL,
	last_error    text NOT NULL,
	updated_at    timestamptz NOT NULL,
	-- A claim holds until then; past it, the message is back in the queue.
	claimed_until timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
	PRIMARY KEY (digest_id, subscriber_id)
);

CREATE INDEX digest_recipients_state ON digest_recipients (digest_id, state);

-- Each send of a delivery, for the article pages.
CREATE TABLE delivery_attempts (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	delivery_id bigint NOT NULL REFERENCES deliveries (id),
	at          timestamptz NOT NULL,
	took_us     bigint NOT NULL,
	state       text NOT NULL,
	error       text NOT NULL
);

CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

CREATE TABLE paused_channels (
	channel_id text PRIMARY KEY,
	paused_at  timestamptz NOT NULL
);
