-- The delivery ledger: one send (a post or a digest to an audience), the content rendered once per variant, and one
-- row per message to one subscriber on one channel. A row's idempotency_key is the channel's deduplication key, so a
-- re-planned send adds no row twice and a channel can recognise a message it already sent.

CREATE TABLE sends (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('post', 'digest', 'test')),
    post_id      INTEGER REFERENCES posts (id),
    cadence      TEXT,
    channels     TEXT NOT NULL,
    topics       TEXT,
    dry_run      INTEGER NOT NULL DEFAULT 0,
    requested_by TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    planned_at   TEXT,
    finished_at  TEXT,
    total        INTEGER NOT NULL DEFAULT 0,
    -- A digest sent by hand may reach back further than each subscriber's last digest.
    since        TEXT
);

-- A post is announced by ingestion once, however often the announce job runs; admins may send it again.
CREATE UNIQUE INDEX sends_ingest_post ON sends (post_id) WHERE kind = 'post' AND requested_by = 'ingest';
CREATE INDEX sends_unfinished ON sends (finished_at, id);

CREATE TABLE send_messages (
    send_id INTEGER NOT NULL REFERENCES sends (id) ON DELETE CASCADE,
    variant TEXT NOT NULL,
    format  TEXT NOT NULL,
    subject TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (send_id, variant, format)
);

-- subscriber_id has no foreign key: subscribers live in their own migration, and a ledger row must outlive a
-- deleted subscriber as the record of what was sent.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    send_id         INTEGER NOT NULL REFERENCES sends (id) ON DELETE CASCADE,
    subscriber_id   INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,
    variant         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed-transient', 'failed-permanent', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    skip_reason     TEXT,
    updated_at      TEXT NOT NULL,
    sent_at         TEXT
);

CREATE INDEX deliveries_send_state ON deliveries (send_id, state, id);
