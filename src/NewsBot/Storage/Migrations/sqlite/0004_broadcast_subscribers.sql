-- A subscriber is a person (or a group that subscribed itself with /subscribe), or a broadcast target: a Telegram
-- channel or group from NewsBot:Telegram:Channels, whose readers NewsBot does not know, so its messages carry no
-- personal links. Broadcast rows are written only by the configuration sync at start.
ALTER TABLE subscribers ADD COLUMN kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'broadcast'));
