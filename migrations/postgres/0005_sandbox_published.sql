-- A Sandbox item can be unpublished (hidden from shoppers) by a force sync.
ALTER TABLE sandbox_items ADD COLUMN published BOOLEAN NOT NULL DEFAULT TRUE;
