-- Subscribers and the channels they are reached on. Timestamps are ISO-8601 UTC text as in 0001 (see DbExtensions).

CREATE TABLE subscribers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT,
    cadence        TEXT NOT NULL DEFAULT 'instant' CHECK (cadence IN ('instant', 'daily', 'weekly', 'off')),
    -- An IANA zone id ('Asia/Tokyo'): digests go out at the subscriber's local morning.
    time_zone      TEXT NOT NULL DEFAULT 'UTC',
    created_at     TEXT NOT NULL,
    last_digest_at TEXT
);

-- One address per channel per subscriber, and an address belongs to one subscriber only: the same inbox or chat
-- subscribed twice would get every message twice. Emails are stored trimmed and lower-cased; telegram addresses
-- are chat ids (signed 64-bit integers) as text.
CREATE TABLE subscriber_channels (
    subscriber_id     INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    channel           TEXT NOT NULL CHECK (channel IN ('email', 'telegram')),
    address           TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'pending-confirmation', 'unsubscribed', 'blocked', 'bounced')),
    status_changed_at TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, channel),
    -- address first: an index led by channel (two values) would tempt the planner to walk all emails and sort
    -- them instead of walking the stream index below in order.
    UNIQUE (address, channel)
);

-- The recipient stream walks channels in (subscriber_id, channel) order; with status and address in the index
-- it never reads the table itself.
CREATE INDEX subscriber_channels_stream ON subscriber_channels (subscriber_id, channel, status, address);

-- No rows for a subscriber means all topics.
CREATE TABLE subscriber_topics (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    topic         TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, topic)
);

-- Addresses never to be sent to, subscribed or not (hard bounces, complaints, requests by hand).
CREATE TABLE suppressions (
    channel    TEXT NOT NULL,
    address    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (channel, address)
);
