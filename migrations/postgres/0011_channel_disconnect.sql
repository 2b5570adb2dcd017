-- A channel can be disconnected from the dashboard: it keeps its row (its
-- Sync History names it) but loses its credentials, its queued pushes and
-- its outlets, and no worker drives it any more.
-- A Sandbox item remembers the product it belongs to, so a product write
-- can rename, remove, hide or show its items and a deletion finds them.
-- Keep in step with ../sqlite/0011_channel_disconnect.sql.
ALTER TABLE channels ADD COLUMN disconnected_at TIMESTAMPTZ;
ALTER TABLE sandbox_items ADD COLUMN product_ref TEXT;
UPDATE sandbox_items SET product_ref = (
    SELECT 'sandbox-product:' || v.product_id
    FROM channel_listings l JOIN variants v ON v.id = l.variant_id
    WHERE l.channel_id = sandbox_items.channel_id AND l.external_variant_id = sandbox_items.item_id
);
CREATE INDEX sandbox_items_product ON sandbox_items (channel_id, product_ref);
