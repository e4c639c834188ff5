-- The editor's desk: deliveries may wait in review and carry an editor's
-- text; each attempt is kept; channels can be paused.

-- SQLite cannot change a CHECK constraint in place: the table is rebuilt
-- with the new state and the override column, keeping every id.
CREATE TABLE deliveries_new (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	article_id    INTEGER NOT NULL REFERENCES articles (id),
	channel_id    TEXT NOT NULL,
	dedupe_link   TEXT NOT NULL,
	state         TEXT NOT NULL CHECK (state IN
		('pending', 'sending', 'sent', 'failed', 'held', 'review', 'skipped', 'uncertain')),
	attempts      INTEGER NOT NULL,
	next_attempt  INTEGER NOT NULL,
	last_error    TEXT NOT NULL,
	remote_id     TEXT NOT NULL,
	remote_url    TEXT NOT NULL,
	sort_time     INTEGER NOT NULL,
	sending_since INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	override      TEXT NOT NULL DEFAULT '',
	UNIQUE (article_id, channel_id),
	UNIQUE (channel_id, dedupe_link)
) STRICT;

INSERT INTO deliveries_new (id, article_id, channel_id, dedupe_link, state, attempts, next_attempt,
	last_error, remote_id, remote_url, sort_time, sending_since, created_at, updated_at)
SELECT id, article_id, channel_id, dedupe_link, state, attempts, next_attempt,
	last_error, remote_id, remote_url, sort_time, sending_since, created_at, updated_at
FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;

CREATE INDEX deliveries_queue ON deliveries (channel_id, state, sort_time, next_attempt);
CREATE INDEX deliveries_next ON deliveries (channel_id, state, next_attempt);
-- The article pages list an article's deliveries.
CREATE INDEX deliveries_article ON deliveries (article_id);

CREATE TABLE delivery_attempts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
	at          INTEGER NOT NULL,
	took_us     INTEGER NOT NULL,
	state       TEXT NOT NULL,
	error       TEXT NOT NULL
) STRICT;

CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

CREATE TABLE paused_channels (
	channel_id TEXT PRIMARY KEY,
	paused_at  INTEGER NOT NULL
) STRICT;
