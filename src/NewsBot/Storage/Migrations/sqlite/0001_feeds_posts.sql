-- Timestamps are ISO-8601 UTC text, fixed width with milliseconds ('2026-11-28T14:05:09.123Z'): see DbExtensions.

CREATE TABLE feeds (
    name            TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    permanent_url   TEXT,
    etag            TEXT,
    last_modified   TEXT,
    title           TEXT,
    failure_count   INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_polled_at  TEXT,
    last_success_at TEXT,
    next_attempt_at TEXT,
    backfilled      INTEGER NOT NULL DEFAULT 0
);

-- key is unique across feeds: a post carried by two feeds is stored, and announced, once.
CREATE TABLE posts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    feed         TEXT NOT NULL REFERENCES feeds (name) ON UPDATE CASCADE,
    key          TEXT NOT NULL UNIQUE,
    url          TEXT,
    title        TEXT NOT NULL,
    author       TEXT,
    published    TEXT,
    updated      TEXT,
    labels       TEXT NOT NULL DEFAULT '[]',
    content_html TEXT NOT NULL,
    summary      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    first_seen   TEXT NOT NULL,
    last_changed TEXT NOT NULL
);

CREATE INDEX posts_feed ON posts (feed);
CREATE INDEX posts_recent ON posts (coalesce(published, first_seen));

CREATE TABLE post_topics (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    topic   TEXT NOT NULL,
    PRIMARY KEY (post_id, topic)
);

CREATE INDEX post_topics_topic ON post_topics (topic);

-- Contentless: the text is in posts already, and body is content_html without tags, which no posts column holds.
-- contentless_delete (SQLite 3.43) allows replacing a row when a post is edited. https://sqlite.org/fts5.html#contentless_delete_tables
CREATE VIRTUAL TABLE posts_fts USING fts5 (
    title, summary, body,
    content = '', contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
