-- A run's progress while it goes on, and what it left alone: the quantities
-- and products it set out to push (a force sync knows them at its start),
-- how many of each it has done so far, and the items it found already up
-- to date (skipped, neither pushed nor failed).
-- Keep in step with ../sqlite/0014_run_progress.sql.
ALTER TABLE sync_runs ADD COLUMN items_skipped BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN quantities_total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN quantities_done BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN products_total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN products_done BIGINT NOT NULL DEFAULT 0;
