-- The dashboard over a large store (DESIGN.md section 8: the products page
-- and the Sync History with 100,000 products and 1,000,000 events).
-- Keep in step with ../sqlite/0004_dashboard_indexes.sql.

-- Each product's stock on hand over all outlets, kept by triggers in the
-- transaction of every change to stock_levels, so the products table can
-- filter and sort by stock without summing every product's stock levels.
ALTER TABLE products ADD COLUMN on_hand_total BIGINT NOT NULL DEFAULT 0;
UPDATE products p SET on_hand_total = t.total
FROM (SELECT v.product_id, SUM(s.on_hand) AS total FROM stock_levels s JOIN variants v ON v.id = s.variant_id GROUP BY v.product_id) t
WHERE t.product_id = p.id;

-- The products table's stock filter as a value the planner can count and
-- index: out (nothing on hand), low (at most the reorder point, 5 when none
-- is set) or in.
ALTER TABLE products ADD COLUMN stock_status TEXT GENERATED ALWAYS AS (
    CASE WHEN on_hand_total <= 0 THEN 'out'
         WHEN on_hand_total <= COALESCE(reorder_point, 5) THEN 'low'
         ELSE 'in' END
) STORED;

-- Once per statement on stock_levels: each product's change in on hand,
-- applied with the products locked in id order, so concurrent batches
-- cannot deadlock on them.
CREATE FUNCTION stock_levels_to_product_totals() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed BIGINT[];
    deltas BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(d.product_id ORDER BY d.product_id), array_agg(d.delta ORDER BY d.product_id)
        INTO changed, deltas
        FROM (SELECT v.product_id, SUM(n.on_hand) AS delta
              FROM new_rows n JOIN variants v ON v.id = n.variant_id
              GROUP BY v.product_id HAVING SUM(n.on_hand) <> 0) d;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(d.product_id ORDER BY d.product_id), array_agg(d.delta ORDER BY d.product_id)
        INTO changed, deltas
        FROM (SELECT v.product_id, SUM(x.delta) AS delta
              FROM (SELECT variant_id, on_hand AS delta FROM new_rows
                    UNION ALL SELECT variant_id, -on_hand FROM old_rows) x
              JOIN variants v ON v.id = x.variant_id
              GROUP BY v.product_id HAVING SUM(x.delta) <> 0) d;
    ELSE
        SELECT array_agg(d.product_id ORDER BY d.product_id), array_agg(d.delta ORDER BY d.product_id)
        INTO changed, deltas
        FROM (SELECT v.product_id, -SUM(o.on_hand) AS delta
              FROM old_rows o JOIN variants v ON v.id = o.variant_id
              GROUP BY v.product_id HAVING SUM(o.on_hand) <> 0) d;
    END IF;
    IF changed IS NOT NULL THEN
        PERFORM 1 FROM products WHERE id = ANY (changed) ORDER BY id FOR NO KEY UPDATE;
        UPDATE products p SET on_hand_total = p.on_hand_total + d.delta
        FROM unnest(changed, deltas) AS d (product_id, delta)
        WHERE p.id = d.product_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER stock_levels_total_insert AFTER INSERT ON stock_levels
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_to_product_totals();
CREATE TRIGGER stock_levels_total_update AFTER UPDATE ON stock_levels
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_to_product_totals();
CREATE TRIGGER stock_levels_total_delete AFTER DELETE ON stock_levels
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_to_product_totals();

-- Live products by category and stock status, in name order: the category
-- and stock filters (a page and its count straight from the index) and the
-- list of categories.
CREATE INDEX products_live_category ON products (category, stock_status, name, id) WHERE deleted_at IS NULL;
-- Live products by brand, in name order: the brand filter and the list of brands.
CREATE INDEX products_live_brand ON products (brand, name, id) WHERE deleted_at IS NULL;
-- Live products are counted from either partial index. (Every index on
-- products costs the bulk Auto Sync update a write per row.)

-- The Sync History chart (events per hour of the last day), from the index alone.
CREATE INDEX sync_events_chart ON sync_events (created_at, channel_id, result);
