-- A variant just pushed waits this long before its next push, so a burst of
-- changes to one SKU costs the channel a call or two, not one per change.
ALTER TABLE outbox ADD COLUMN cooldown_until TEXT;

-- Who is creating a product in a channel right now, so two workers never
-- create it twice.
ALTER TABLE channel_products ADD COLUMN create_lease_owner TEXT;
ALTER TABLE channel_products ADD COLUMN create_lease_until TEXT;
