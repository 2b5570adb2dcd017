-- When each push was acknowledged by the channel and when the change it
-- carried was first queued: the channels page's p50/p99 over the last hour.
CREATE TABLE push_acks (
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    enqueued_at TIMESTAMPTZ NOT NULL,
    acked_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX push_acks_channel_time ON push_acks (channel_id, acked_at);
