-- PostgreSQL twin of sqlite/0002_subscribers.sql. Timestamps are ISO-8601 UTC text as in 0001 (see DbExtensions).

CREATE TABLE subscribers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text,
    cadence        text NOT NULL DEFAULT 'instant' CHECK (cadence IN ('instant', 'daily', 'weekly', 'off')),
    -- An IANA zone id ('Asia/Tokyo'): digests go out at the subscriber's local morning.
    time_zone      text NOT NULL DEFAULT 'UTC',
    created_at     text NOT NULL,
    last_digest_at text
);

-- One address per channel per subscriber, and an address belongs to one subscriber only: the same inbox or chat
-- subscribed twice would get every message twice. Emails are stored trimmed and lower-cased; telegram addresses
-- are chat ids (signed 64-bit integers) as text.
CREATE TABLE subscriber_channels (
    subscriber_id     bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    channel           text NOT NULL CHECK (channel IN ('email', 'telegram')),
    address           text NOT NULL,
    status            text NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'pending-confirmation', 'unsubscribed', 'blocked', 'bounced')),
    status_changed_at text NOT NULL,
    PRIMARY KEY (subscriber_id, channel),
    UNIQUE (address, channel)
);

-- The recipient stream walks channels in (subscriber_id, channel) order; with status and address in the index
-- it can be an index-only scan.
CREATE INDEX subscriber_channels_stream ON subscriber_channels (subscriber_id, channel, status, address);

-- No rows for a subscriber means all topics.
CREATE TABLE subscriber_topics (
    subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    topic         text NOT NULL,
    PRIMARY KEY (subscriber_id, topic)
);

-- Addresses never to be sent to, subscribed or not (hard bounces, complaints, requests by hand).
CREATE TABLE suppressions (
    channel    text NOT NULL,
    address    text NOT NULL,
    reason     text NOT NULL,
    created_at text NOT NULL,
    PRIMARY KEY (channel, address)
);
