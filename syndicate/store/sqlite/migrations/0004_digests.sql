-- The email digests (syndicate.DigestStore). Times are INTEGER
-- microseconds since the Unix epoch, UTC; the zero time.Time is stored as
-- its own value, -62135596800000000 (a digest not finished).

-- When each digest channel's schedule was last honoured, and the last
-- period made: a schedule firing again in the same wall-clock minute
-- (daylight saving fall-back) makes nothing.
CREATE TABLE digest_clocks (
	channel_id TEXT PRIMARY KEY,
	last_at    INTEGER NOT NULL,
	period     TEXT NOT NULL
) STRICT;

-- One row per digest; one digest per channel and period. AUTOINCREMENT:
-- ids are written into the ledger ("digest:<id>") and never reused.
CREATE TABLE digests (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	channel_id  TEXT NOT NULL,
	period      TEXT NOT NULL,
	articles    TEXT NOT NULL, -- JSON array of article ids, oldest first
	created_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL,
	UNIQUE (channel_id, period)
) STRICT;

-- OpenDigests.
CREATE INDEX digests_open ON digests (channel_id, finished_at);

-- One record per message of a digest. A subscriber without one has not
-- been mailed yet.
CREATE TABLE digest_recipients (
	digest_id     INTEGER NOT NULL REFERENCES digests (id),
	subscriber_id INTEGER NOT NULL REFERENCES subscribers (id),
	state         TEXT NOT NULL CHECK (state IN
		('sending', 'sent', 'deferred', 'failed', 'uncertain')),
	attempts      INTEGER NOT NULL,
	last_error    TEXT NOT NULL,
	updated_at    INTEGER NOT NULL,
	PRIMARY KEY (digest_id, subscriber_id)
) STRICT, WITHOUT ROWID;

-- SettleInFlight and RecipientCounts.
CREATE INDEX digest_recipients_state ON digest_recipients (digest_id, state);
