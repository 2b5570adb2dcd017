-- A Sandbox item can be unpublished (hidden from shoppers) by a force sync.
ALTER TABLE sandbox_items ADD COLUMN published INTEGER NOT NULL DEFAULT 1 CHECK (published IN (0, 1));
