-- The bounce mailbox (issue 5): each report read from it, once, and what it said about which address.
-- Timestamps are ISO-8601 UTC text as in 0001 (see DbExtensions).

-- One row per report processed, keyed by its Message-ID (or a digest of its content when it has none): reading the
-- same report again, from a retried job or a copy in another folder, finds its row and counts nothing twice.
CREATE TABLE bounce_reports (
    report_key   TEXT PRIMARY KEY,
    report_type  TEXT NOT NULL CHECK (report_type IN ('delivery-status', 'feedback-report', 'none')),
    processed_at TEXT NOT NULL
);

-- One row per recipient of a report. address is null when the report does not say; subscriber_id and send_id are
-- set when the VERP address or the returned Message-ID named our ledger row.
CREATE TABLE bounces (
    id            INTEGER PRIMARY KEY,
    report_key    TEXT NOT NULL REFERENCES bounce_reports (report_key) ON DELETE CASCADE,
    address       TEXT,
    subscriber_id INTEGER,
    send_id       INTEGER,
    kind          TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint', 'other')),
    status        TEXT,
    action        TEXT,
    diagnostic    TEXT,
    -- Why the address was suppressed because of this bounce; null when it was not.
    suppressed    TEXT,
    created_at    TEXT NOT NULL
);

-- Soft bounces of one address within the window; the admin's list, newest first.
CREATE INDEX bounces_address ON bounces (address, kind, created_at);
CREATE INDEX bounces_recent ON bounces (created_at);
