-- The store's own settings, in one row: its time zone (an IANA name such
-- as Europe/Berlin), in which the dashboard shows every time. UTC until an
-- owner chooses one on the Settings page.
-- Keep in step with ../sqlite/0013_store_settings.sql.
CREATE TABLE store_settings (
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    time_zone TEXT NOT NULL
);
INSERT INTO store_settings (id, time_zone) VALUES (1, 'UTC');
