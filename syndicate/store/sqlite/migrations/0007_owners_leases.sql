-- Work shared by several processes names the process that holds it: a
-- delivery left sending, a digest message claimed or being mailed. Another
-- process settles it only once its owner has stopped or its lease ended.
ALTER TABLE deliveries ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE digest_recipients ADD COLUMN owner TEXT NOT NULL DEFAULT '';

-- A lease is held by one process at a time: a channel's queue, a feed's
-- poll. An empty owner is a lease released.
CREATE TABLE leases (
	name  TEXT PRIMARY KEY,
	owner TEXT NOT NULL,
	until INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
