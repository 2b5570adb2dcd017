-- The API's order feed reads orders by when Tillbridge recorded their
-- latest change, on its own clock: a channel's update times can arrive
-- late (a pull after Tillbridge was stopped) and would slip behind a back
-- office's "updated since".
-- Keep in step with ../postgres/0012_order_feed.sql.
ALTER TABLE channel_orders ADD COLUMN recorded_at TEXT;
UPDATE channel_orders SET recorded_at = ingested_at;
CREATE INDEX channel_orders_recorded ON channel_orders (recorded_at, id);
