-- Pull, then push (no un-selling): a figure read from the channel rather
-- than written by us is dated, a push that would raise a channel's figure
-- read that way waits for a pull of the channel's orders started after the
-- read, and each channel remembers when its last successful pull started.
-- Keep in step with ../sqlite/0009_pull_before_push.sql.
ALTER TABLE channel_listings ADD COLUMN seen_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN waits_for_pull_since TIMESTAMPTZ;
ALTER TABLE channels ADD COLUMN pulled_through TIMESTAMPTZ;
