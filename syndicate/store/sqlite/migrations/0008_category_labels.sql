-- A category's label (Atom's label="…"), aligned with categories: what a
-- hashtag or a digest shows, where routing and filters use the term.
ALTER TABLE articles ADD COLUMN category_labels TEXT NOT NULL DEFAULT '[]';
