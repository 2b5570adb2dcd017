-- The app's client secret that signs a channel's webhooks, sealed like the token.
ALTER TABLE channels ADD COLUMN webhook_secret BYTEA;
