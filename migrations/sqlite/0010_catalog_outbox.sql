-- The catalog follows on its own: one pending row per (channel, product)
-- whose synced fields must be written to the channel, queued in the same
-- transaction as the change and coalesced like quantity pushes.
-- Keep in step with ../postgres/0010_catalog_outbox.sql.
CREATE TABLE catalog_outbox (
    id           INTEGER PRIMARY KEY,
    channel_id   INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    product_id   INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL DEFAULT 1,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    available_at TEXT NOT NULL,
    lease_owner  TEXT,
    lease_until  TEXT,
    last_error   TEXT,
    enqueued_at  TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (channel_id, product_id)
);
CREATE INDEX catalog_outbox_claim ON catalog_outbox (channel_id, state, available_at);
-- What was last written to the channel (JSON), so the history can say what changed.
ALTER TABLE channel_products ADD COLUMN pushed_content TEXT;
-- Products linked by SKU got no channel product id: every listed product has one now.
INSERT INTO channel_products (channel_id, product_id, external_product_id)
SELECT l.channel_id, v.product_id, MIN(l.external_product_id)
FROM channel_listings l JOIN variants v ON v.id = l.variant_id
WHERE l.external_product_id IS NOT NULL
GROUP BY l.channel_id, v.product_id
ON CONFLICT (channel_id, product_id) DO UPDATE SET external_product_id = excluded.external_product_id
WHERE channel_products.external_product_id IS NULL;
