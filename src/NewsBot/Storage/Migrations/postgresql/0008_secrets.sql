-- Secrets every process of one NewsBot shares: the link-signing key (SubscriptionTokens). In the database rather
-- than a file in one instance's data directory, so several instances on one PostgreSQL, and a CLI beside the
-- service, sign and verify with the same key.
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      BYTEA NOT NULL,
    created_at TEXT NOT NULL
);
