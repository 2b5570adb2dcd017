-- Pull, then push (no un-selling): a figure read in the channel rather than
-- written by us is dated, a push that would raise a channel's figure read
-- that way waits for a pull of the channel's orders started after the
-- read, each channel remembers when its last successful pull started, and
-- its schedule counts from its last full sweep, not from any pull.
-- Keep in step with ../postgres/0009_pull_before_push.sql.
ALTER TABLE channel_listings ADD COLUMN seen_at TEXT;
ALTER TABLE outbox ADD COLUMN waits_for_pull_since TEXT;
ALTER TABLE channels ADD COLUMN pulled_through TEXT;
-- The newest update the pull that read an order listed: past the order's
-- own (second-precise) update, no later change can share its update time.
ALTER TABLE channel_orders ADD COLUMN read_through TEXT;
ALTER TABLE channels ADD COLUMN last_sweep_at TEXT;
UPDATE channels SET last_sweep_at = last_pull_at;
CREATE INDEX outbox_awaiting_pull ON outbox (channel_id) WHERE waits_for_pull_since IS NOT NULL;
-- Figures linked by SKU and never pushed, or read back after a stale
-- answer, were read in the channel.
UPDATE channel_listings SET seen_at = strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z'
WHERE last_pushed_quantity IS NULL OR last_seen_quantity IS NOT last_pushed_quantity;
