-- PostgreSQL twin of sqlite/0007_leases.sql: delivery leases and the shared Telegram lane (see there).

ALTER TABLE deliveries ADD COLUMN lease_owner text;
ALTER TABLE deliveries ADD COLUMN lease_until text;
UPDATE deliveries SET lease_until = updated_at WHERE state = 'sending';

CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE state = 'sending';

CREATE TABLE send_lanes (
    name            text PRIMARY KEY,
    next_slot_us    bigint NOT NULL,
    paused_until_us bigint NOT NULL
);

CREATE TABLE send_lane_chats (
    lane         text NOT NULL,
    chat_id      bigint NOT NULL,
    next_slot_us bigint NOT NULL,
    PRIMARY KEY (lane, chat_id)
);
