-- PostgreSQL twin of sqlite/0004_broadcast_subscribers.sql: a subscriber is a person or a broadcast target (a
-- Telegram channel or group from NewsBot:Telegram:Channels), written only by the configuration sync at start.
ALTER TABLE subscribers ADD COLUMN kind text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'broadcast'));
