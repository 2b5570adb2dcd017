-- Sessions are stored under a SHA-256 of their id, never the id itself,
-- so whoever reads the database cannot take a session over. Sessions from
-- before are dropped: their users sign in again.
-- Keep in step with ../postgres/0015_session_id_hashes.sql.
DROP TABLE sessions;
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
