-- Tillbridge schema, SQLite dialect. Keep in step with ../postgres/0001_initial.sql.
-- Times are UTC, as fixed-width ISO 8601 text. Money is integer minor units
-- with a currency. Enums are text with a CHECK.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'viewer')),
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'viewer')),
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE outlets (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Every field of the seed 004 mapping. Synced to channels: name, category,
-- description, brand, options, active, images (and per variant: SKU, UPC,
-- option values, price, weight, dimensions, stock). Never synced: handle,
-- supplier, supplier code, supplier price, reorder point/quantity, tax, tags.
CREATE TABLE products (
    id                      INTEGER PRIMARY KEY,
    name                    TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    handle                  TEXT NOT NULL UNIQUE,
    description             TEXT NOT NULL DEFAULT '',
    brand                   TEXT NOT NULL DEFAULT '',
    category                TEXT NOT NULL DEFAULT '',
    option1_name            TEXT,
    option2_name            TEXT,
    option3_name            TEXT,
    active                  INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    auto_sync               INTEGER NOT NULL DEFAULT 0 CHECK (auto_sync IN (0, 1)),
    supplier                TEXT NOT NULL DEFAULT '',
    supplier_code           TEXT NOT NULL DEFAULT '',
    supplier_price_minor    INTEGER,
    supplier_price_currency TEXT CHECK (supplier_price_currency IS NULL OR length(supplier_price_currency) = 3),
    reorder_point           INTEGER CHECK (reorder_point IS NULL OR reorder_point >= 0),
    reorder_quantity        INTEGER CHECK (reorder_quantity IS NULL OR reorder_quantity >= 0),
    tax_class               TEXT NOT NULL DEFAULT '',
    tags                    TEXT NOT NULL DEFAULT '',
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    deleted_at              TEXT
);
CREATE INDEX products_name ON products (name, id);
CREATE INDEX products_updated ON products (updated_at, id);

CREATE TABLE variants (
    id             INTEGER PRIMARY KEY,
    product_id     INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku            TEXT NOT NULL UNIQUE,
    barcode        TEXT,
    option1_value  TEXT,
    option2_value  TEXT,
    option3_value  TEXT,
    price_minor    INTEGER NOT NULL CHECK (price_minor >= 0),
    price_currency TEXT NOT NULL CHECK (length(price_currency) = 3),
    weight_grams   INTEGER CHECK (weight_grams IS NULL OR weight_grams >= 0),
    length_mm      INTEGER CHECK (length_mm IS NULL OR length_mm >= 0),
    width_mm       INTEGER CHECK (width_mm IS NULL OR width_mm >= 0),
    height_mm      INTEGER CHECK (height_mm IS NULL OR height_mm >= 0),
    position       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX variants_product ON variants (product_id, position);
CREATE INDEX variants_barcode ON variants (barcode);

CREATE TABLE product_images (
    id         INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    alt        TEXT NOT NULL DEFAULT '',
    position   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX product_images_product ON product_images (product_id, position);

-- On hand per variant and outlet, derived from the ledger and updated in the
-- same transaction as each movement. `committed` is stock promised to
-- orders not yet fulfilled.
CREATE TABLE stock_levels (
    variant_id INTEGER NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    outlet_id  INTEGER NOT NULL REFERENCES outlets (id) ON DELETE CASCADE,
    on_hand    INTEGER NOT NULL DEFAULT 0,
    committed  INTEGER NOT NULL DEFAULT 0 CHECK (committed >= 0),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (variant_id, outlet_id)
);
CREATE INDEX stock_levels_outlet ON stock_levels (outlet_id);

-- The append-only stock ledger.
CREATE TABLE stock_movements (
    id              INTEGER PRIMARY KEY,
    variant_id      INTEGER NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    outlet_id       INTEGER NOT NULL REFERENCES outlets (id) ON DELETE CASCADE,
    change_kind     TEXT NOT NULL CHECK (change_kind IN ('delta', 'count')),
    amount          INTEGER NOT NULL,
    applied_delta   INTEGER NOT NULL,
    on_hand_after   INTEGER NOT NULL,
    reason          TEXT NOT NULL CHECK (reason IN ('sales_order', 'purchase_order', 'work_order',
                        'manual_adjustment', 'file_upload', 'inventory_feed', 'channel_order', 'transfer')),
    reference       TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    actor_kind      TEXT NOT NULL CHECK (actor_kind IN ('user', 'api', 'system', 'channel')),
    actor_label     TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX stock_movements_variant ON stock_movements (variant_id, id);

-- A retried API request with the same Idempotency-Key applies once.
CREATE TABLE idempotency_keys (
    key           TEXT PRIMARY KEY,
    request_hash  TEXT NOT NULL,
    response_code INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE channels (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    kind                TEXT NOT NULL CHECK (kind IN ('shopify', 'sandbox', 'vendure')),
    settings            TEXT NOT NULL DEFAULT '{}',
    credentials         BLOB,
    order_outlet_id     INTEGER REFERENCES outlets (id),
    safety_buffer       INTEGER NOT NULL DEFAULT 0 CHECK (safety_buffer >= 0),
    publish_percent     INTEGER CHECK (publish_percent IS NULL OR publish_percent BETWEEN 0 AND 100),
    publish_max         INTEGER CHECK (publish_max IS NULL OR publish_max >= 0),
    zero_at_or_below    INTEGER CHECK (zero_at_or_below IS NULL OR zero_at_or_below >= 0),
    schedule_minutes    INTEGER CHECK (schedule_minutes IS NULL OR schedule_minutes > 0),
    channel_only_policy TEXT NOT NULL DEFAULT 'keep' CHECK (channel_only_policy IN ('keep', 'unpublish', 'delete')),
    orders_checkpoint   TEXT,
    last_pull_at        TEXT,
    last_push_at        TEXT,
    created_at          TEXT NOT NULL
);

CREATE TABLE channel_outlets (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    outlet_id  INTEGER NOT NULL REFERENCES outlets (id) ON DELETE CASCADE,
    PRIMARY KEY (channel_id, outlet_id)
);

-- Per product and channel: sell online or not, and the channel's product id.
CREATE TABLE channel_products (
    channel_id          INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    product_id          INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sell_online         INTEGER NOT NULL DEFAULT 1 CHECK (sell_online IN (0, 1)),
    external_product_id TEXT,
    content_hash        TEXT,
    last_pushed_at      TEXT,
    PRIMARY KEY (channel_id, product_id)
);

-- Our variant <-> the channel's ids, with what was last pushed and seen.
CREATE TABLE channel_listings (
    id                         INTEGER PRIMARY KEY,
    channel_id                 INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    variant_id                 INTEGER NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    external_product_id        TEXT,
    external_variant_id        TEXT,
    external_inventory_item_id TEXT,
    last_pushed_quantity       INTEGER,
    last_seen_quantity         INTEGER,
    content_hash               TEXT,
    last_pushed_at             TEXT,
    UNIQUE (channel_id, variant_id),
    UNIQUE (channel_id, external_variant_id)
);

-- One pending row per (channel, variant, kind); bumps raise `version`.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    channel_id   INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    variant_id   INTEGER NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('quantity', 'product')),
    version      INTEGER NOT NULL DEFAULT 1,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    available_at TEXT NOT NULL,
    lease_owner  TEXT,
    lease_until  TEXT,
    last_error   TEXT,
    enqueued_at  TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (channel_id, variant_id, kind)
);
CREATE INDEX outbox_claim ON outbox (channel_id, state, available_at);

CREATE TABLE sync_runs (
    id              INTEGER PRIMARY KEY,
    channel_id      INTEGER REFERENCES channels (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('auto', 'standard', 'force', 'clear_and_force', 'sync_all', 'pull_orders', 'import', 'feed')),
    trigger         TEXT NOT NULL CHECK (trigger IN ('stock_change', 'schedule', 'webhook', 'sign_in', 'button', 'api', 'cli', 'startup')),
    actor_label     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'partially_failed', 'failed', 'interrupted')),
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    items_total     INTEGER NOT NULL DEFAULT 0,
    items_succeeded INTEGER NOT NULL DEFAULT 0,
    items_failed    INTEGER NOT NULL DEFAULT 0,
    log             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_channel ON sync_runs (channel_id, started_at);

CREATE TABLE sync_events (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER REFERENCES sync_runs (id) ON DELETE CASCADE,
    channel_id   INTEGER REFERENCES channels (id) ON DELETE CASCADE,
    product_id   INTEGER REFERENCES products (id) ON DELETE SET NULL,
    variant_id   INTEGER REFERENCES variants (id) ON DELETE SET NULL,
    action       TEXT NOT NULL,
    before_value TEXT,
    after_value  TEXT,
    result       TEXT NOT NULL CHECK (result IN ('succeeded', 'failed', 'skipped')),
    error        TEXT,
    attempt      INTEGER NOT NULL DEFAULT 1,
    actor_label  TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX sync_events_time ON sync_events (created_at, id);
CREATE INDEX sync_events_product ON sync_events (product_id, created_at);
CREATE INDEX sync_events_channel ON sync_events (channel_id, created_at);
CREATE INDEX sync_events_run ON sync_events (run_id, id);

CREATE TABLE conflicts (
    id          INTEGER PRIMARY KEY,
    channel_id  INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('sku_elsewhere', 'unknown_sku', 'push_rejected', 'changed_in_channel')),
    product_id  INTEGER REFERENCES products (id) ON DELETE CASCADE,
    variant_id  INTEGER REFERENCES variants (id) ON DELETE CASCADE,
    sku         TEXT,
    external_id TEXT,
    ours        TEXT NOT NULL DEFAULT '',
    theirs      TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'ignored')),
    resolution  TEXT,
    resolved_by TEXT,
    created_at  TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX conflicts_open ON conflicts (status, channel_id);

-- Orders pulled from channels, de-duplicated by the channel's order id.
CREATE TABLE channel_orders (
    id                 INTEGER PRIMARY KEY,
    channel_id         INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    external_id        TEXT NOT NULL,
    number             TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('open', 'cancelled', 'closed')),
    currency           TEXT NOT NULL CHECK (length(currency) = 3),
    total_minor        INTEGER NOT NULL,
    placed_at          TEXT NOT NULL,
    channel_updated_at TEXT NOT NULL,
    ingested_at        TEXT NOT NULL,
    UNIQUE (channel_id, external_id)
);

CREATE TABLE channel_order_lines (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES channel_orders (id) ON DELETE CASCADE,
    external_line_id TEXT NOT NULL,
    sku              TEXT NOT NULL,
    variant_id       INTEGER REFERENCES variants (id) ON DELETE SET NULL,
    quantity         INTEGER NOT NULL CHECK (quantity >= 0),
    -- what this line has taken from stock so far; cancellations give it back once
    applied_quantity INTEGER NOT NULL DEFAULT 0,
    price_minor      INTEGER NOT NULL,
    UNIQUE (order_id, external_line_id)
);
