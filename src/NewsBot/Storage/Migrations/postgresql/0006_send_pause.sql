-- A send pauses when its channel sees every message refused (an SMTP relay that blocked the account): its rows stay
-- pending until an admin retries it. paused_at is set while it is paused; pause_reason says why, for the report.

ALTER TABLE sends ADD COLUMN paused_at TEXT;
ALTER TABLE sends ADD COLUMN pause_reason TEXT;
