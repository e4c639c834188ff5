-- Email subscribers: one row per address and list. email is kept as
-- given (its domain lower-cased by the caller); email_key is email
-- lower-cased whole (Go's strings.ToLower, so Unicode too), which makes an
-- address unique per list whatever its case. ids are never reused: the
-- digest ledger refers to them.
CREATE TABLE subscribers (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	list            TEXT NOT NULL,
	email           TEXT NOT NULL,
	email_key       TEXT NOT NULL,
	name            TEXT NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'unsubscribed')),
	created_at      INTEGER NOT NULL,
	confirmed_at    INTEGER NOT NULL,
	unsubscribed_at INTEGER NOT NULL,
	UNIQUE (list, email_key)
) STRICT;

-- A digest pages through the confirmed subscribers of a list in id order.
CREATE INDEX subscribers_list_state ON subscribers (list, state, id);
