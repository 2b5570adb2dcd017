-- Inventory feeds: a CSV of stock at a URL, fetched on a schedule and
-- applied to one outlet's stock (seed 003's "inventory feed update").
CREATE TABLE inventory_feeds (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    url              TEXT NOT NULL,
    outlet_id        INTEGER NOT NULL REFERENCES outlets (id) ON DELETE CASCADE,
    mode             TEXT NOT NULL DEFAULT 'count' CHECK (mode IN ('count', 'delta')),
    schedule_minutes INTEGER CHECK (schedule_minutes IS NULL OR schedule_minutes > 0),
    -- when a scheduler next fetches it; NULL for feeds fetched only on request
    next_run_at      TEXT,
    last_fetched_at  TEXT,
    last_status      TEXT CHECK (last_status IS NULL OR last_status IN ('succeeded', 'failed')),
    last_message     TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL
);
CREATE INDEX inventory_feeds_due ON inventory_feeds (next_run_at);

-- A file uploaded on the dashboard, kept between its preview and "Apply"
-- so exactly the previewed content is applied. Removed once applied.
CREATE TABLE import_uploads (
    token        TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('stock', 'catalog')),
    mode         TEXT CHECK (mode IS NULL OR mode IN ('count', 'delta')),
    outlet_code  TEXT,
    file_name    TEXT NOT NULL,
    content      BLOB NOT NULL,
    content_hash TEXT NOT NULL,
    user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL
);
CREATE INDEX import_uploads_created ON import_uploads (created_at);
