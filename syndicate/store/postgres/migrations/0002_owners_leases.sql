-- Work shared by several replicas names the process that holds it: a
-- delivery left sending, a digest message claimed or being mailed. Another
-- replica settles it only once its owner has stopped or its lease ended.
ALTER TABLE deliveries ADD COLUMN owner text NOT NULL DEFAULT '';
ALTER TABLE digest_recipients ADD COLUMN owner text NOT NULL DEFAULT '';

-- A lease is held by one replica at a time: a channel's queue, a feed's
-- poll. An empty owner is a lease released.
CREATE TABLE leases (
	name  text PRIMARY KEY,
	owner text NOT NULL,
	until timestamptz NOT NULL
);
