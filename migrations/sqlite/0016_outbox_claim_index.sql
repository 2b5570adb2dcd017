-- A claim reads the next due rows straight from an index in the order it
-- takes them, so it costs the same with 100 or 1,000,000 rows queued: due
-- rows (pending, not waiting for a pull) by when they fall due, and the
-- few in-flight rows by when their lease ends, for rows a dead worker left.
-- Keep in step with ../postgres/0016_outbox_claim_index.sql.
DROP INDEX outbox_claim;
CREATE INDEX outbox_due ON outbox (channel_id, available_at, id)
    WHERE state = 'pending' AND kind = 'quantity' AND waits_for_pull_since IS NULL;
CREATE INDEX outbox_leases ON outbox (channel_id, lease_until) WHERE state = 'in_flight';
