-- A message of a digest is claimed (under a lease) before it is mailed and
-- becomes "sending" only as its own SMTP transaction begins, so a crash
-- leaves at most one message per connection uncertain. SQLite cannot change
-- a CHECK in place: the table is rebuilt.
CREATE TABLE digest_recipients_new (
	digest_id     INTEGER NOT NULL REFERENCES digests (id),
	subscriber_id INTEGER NOT NULL REFERENCES subscribers (id),
	state         TEXT NOT NULL CHECK (state IN
		('claimed', 'sending', 'sent', 'deferred', 'failed', 'uncertain')),
	attempts      INTEGER NOT NULL,
	last_error    TEXT NOT NULL,
	updated_at    INTEGER NOT NULL,
	-- A claim holds until then; past it, the message is back in the queue.
	claimed_until INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (digest_id, subscriber_id)
) STRICT, WITHOUT ROWID;

INSERT INTO digest_recipients_new (digest_id, subscriber_id, state, attempts, last_error, updated_at)
SELECT digest_id, subscriber_id, state, attempts, last_error, updated_at FROM digest_recipients;

DROP TABLE digest_recipients;
ALTER TABLE digest_recipients_new RENAME TO digest_recipients;

CREATE INDEX digest_recipients_state ON digest_recipients (digest_id, state);
