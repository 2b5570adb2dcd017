-- The Sandbox channel's own store: what a shopper would see in it.
CREATE TABLE sandbox_items (
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    item_id     TEXT NOT NULL,
    sku         TEXT NOT NULL,
    title       TEXT NOT NULL,
    available   BIGINT NOT NULL DEFAULT 0,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel_id, item_id),
    UNIQUE (channel_id, sku)
);
