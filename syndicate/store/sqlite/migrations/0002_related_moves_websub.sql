-- Article.Related: the "Read also" links, a JSON array of
-- {"title": …, "url": …}. Articles recorded before have none.
ALTER TABLE articles ADD COLUMN related TEXT NOT NULL DEFAULT '[]';

-- FeedState.GoneURL (answered 410) and MovedFrom → MovedTo (a permanent
-- redirect); empty when none.
ALTER TABLE feeds ADD COLUMN gone_url TEXT NOT NULL DEFAULT '';
ALTER TABLE feeds ADD COLUMN moved_from TEXT NOT NULL DEFAULT '';
ALTER TABLE feeds ADD COLUMN moved_to TEXT NOT NULL DEFAULT '';

-- One WebSub subscription per feed.
CREATE TABLE subscriptions (
	feed_id     TEXT PRIMARY KEY,
	hub         TEXT NOT NULL,
	topic       TEXT NOT NULL,
	secret      TEXT NOT NULL,
	state       TEXT NOT NULL,
	lease_until INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;
