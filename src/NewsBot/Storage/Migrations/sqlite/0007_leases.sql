-- Several processes on one database (N service instances, or the CLI beside the service) share the ledger and the
-- Telegram bot's limits.
--
-- A claimed row is leased: lease_owner is the instance (NewsBot:InstanceName) and lease_until the time after which
-- any instance may put it back to pending; the job holding it renews lease_until while it sends. Both stay on the
-- row after it leaves 'sending', as the record of who last held it.
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;
ALTER TABLE deliveries ADD COLUMN lease_until TEXT;
-- Rows left sending by a NewsBot before leases: their lease ended when they were claimed, so the first sweep frees them.
UPDATE deliveries SET lease_until = updated_at WHERE state = 'sending';

-- The sweeper's question, "which sending rows have an expired lease", without reading the whole ledger.
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE state = 'sending';

-- One row per sending lane (one per bot): the next free global slot and the end of a 429 pause, in microseconds
-- since the Unix epoch. Integers, unlike the ISO text elsewhere, because a reservation adds slot intervals in SQL.
CREATE TABLE send_lanes (
    name            TEXT PRIMARY KEY,
    next_slot_us    INTEGER NOT NULL,
    paused_until_us INTEGER NOT NULL
);

-- The next slot of one group or channel of a lane (Bot API FAQ: 20 messages a minute to a group), shared by all
-- instances; private chats are spaced in each process (see SendLane).
CREATE TABLE send_lane_chats (
    lane         TEXT NOT NULL,
    chat_id      INTEGER NOT NULL,
    next_slot_us INTEGER NOT NULL,
    PRIMARY KEY (lane, chat_id)
);
