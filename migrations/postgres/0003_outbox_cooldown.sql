-- A variant just pushed waits this long before its next push, so a burst of
-- changes to one SKU costs the channel a call or two, not one per change.
ALTER TABLE outbox ADD COLUMN cooldown_until TIMESTAMPTZ;
