-- The dashboard over a large store (DESIGN.md section 8: the products page
-- and the Sync History with 100,000 products and 1,000,000 events).
-- Keep in step with ../postgres/0004_dashboard_indexes.sql.

-- Each product's stock on hand over all outlets, kept by triggers in the
-- transaction of every change to stock_levels, so the products table can
-- filter and sort by stock without summing every product's stock levels.
ALTER TABLE products ADD COLUMN on_hand_total INTEGER NOT NULL DEFAULT 0;
UPDATE products SET on_hand_total = COALESCE((
    SELECT SUM(s.on_hand) FROM stock_levels s JOIN variants v ON v.id = s.variant_id WHERE v.product_id = products.id
), 0);

-- The products table's stock filter as a value the planner can count and
-- index: out (nothing on hand), low (at most the reorder point, 5 when none
-- is set) or in.
ALTER TABLE products ADD COLUMN stock_status TEXT GENERATED ALWAYS AS (
    CASE WHEN on_hand_total <= 0 THEN 'out'
         WHEN on_hand_total <= COALESCE(reorder_point, 5) THEN 'low'
         ELSE 'in' END
) VIRTUAL;

CREATE TRIGGER stock_levels_total_insert AFTER INSERT ON stock_levels WHEN NEW.on_hand <> 0
BEGIN
    UPDATE products SET on_hand_total = on_hand_total + NEW.on_hand
    WHERE id = (SELECT product_id FROM variants WHERE id = NEW.variant_id);
END;

CREATE TRIGGER stock_levels_total_update AFTER UPDATE OF on_hand, variant_id ON stock_levels
WHEN NEW.on_hand <> OLD.on_hand OR NEW.variant_id <> OLD.variant_id
BEGIN
    UPDATE products SET on_hand_total = on_hand_total - OLD.on_hand
    WHERE id = (SELECT product_id FROM variants WHERE id = OLD.variant_id);
    UPDATE products SET on_hand_total = on_hand_total + NEW.on_hand
    WHERE id = (SELECT product_id FROM variants WHERE id = NEW.variant_id);
END;

CREATE TRIGGER stock_levels_total_delete AFTER DELETE ON stock_levels WHEN OLD.on_hand <> 0
BEGIN
    UPDATE products SET on_hand_total = on_hand_total - OLD.on_hand
    WHERE id = (SELECT product_id FROM variants WHERE id = OLD.variant_id);
END;

-- Live products by category and stock status, in name order: the category
-- and stock filters (a page and its count straight from the index) and the
-- list of categories.
CREATE INDEX products_live_category ON products (category, stock_status, name, id) WHERE deleted_at IS NULL;
-- Live products by brand, in name order: the brand filter and the list of brands.
CREATE INDEX products_live_brand ON products (brand, name, id) WHERE deleted_at IS NULL;
-- (No index on deleted_at alone: SQLite's planner takes `deleted_at IS NULL`
-- for a selective equality and would sort every live product by it. Live
-- products are counted from the partial indexes above.)

-- The Sync History chart (events per hour of the last day), from the index alone.
CREATE INDEX sync_events_chart ON sync_events (created_at, channel_id, result);
