-- PostgreSQL twin of sqlite/0001_feeds_posts.sql: same tables, columns and constraints. Timestamps stay ISO-8601 UTC
-- text, fixed width with milliseconds ('2026-11-28T14:05:09.123Z'), so every store's SQL is the same on both
-- providers (see DbExtensions); booleans stay 0/1 integers for the same reason.

CREATE TABLE feeds (
    name            text PRIMARY KEY,
    url             text NOT NULL,
    permanent_url   text,
    etag            text,
    last_modified   text,
    title           text,
    failure_count   integer NOT NULL DEFAULT 0,
    last_error      text,
    last_polled_at  text,
    last_success_at text,
    next_attempt_at text,
    backfilled      integer NOT NULL DEFAULT 0
);

-- key is unique across feeds: a post carried by two feeds is stored, and announced, once.
CREATE TABLE posts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed         text NOT NULL REFERENCES feeds (name) ON UPDATE CASCADE,
    key          text NOT NULL UNIQUE,
    url          text,
    title        text NOT NULL,
    author       text,
    published    text,
    updated      text,
    labels       text NOT NULL DEFAULT '[]',
    content_html text NOT NULL,
    summary      text NOT NULL,
    content_hash text NOT NULL,
    first_seen   text NOT NULL,
    last_changed text NOT NULL
);

CREATE INDEX posts_feed ON posts (feed);
CREATE INDEX posts_recent ON posts (coalesce(published, first_seen));

CREATE TABLE post_topics (
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    topic   text NOT NULL,
    PRIMARY KEY (post_id, topic)
);

CREATE INDEX post_topics_topic ON post_topics (topic);

-- Full-text search, as SQLite's 'porter unicode61 remove_diacritics 2': English stems (snowball, which refines
-- Porter), accents removed (the unaccent extension, trusted since PostgreSQL 13, so a database owner may create it),
-- and no stop words, so every word the user types must be in the post, as with FTS5.
-- https://www.postgresql.org/docs/15/textsearch-configuration.html, https://www.postgresql.org/docs/15/unaccent.html
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH DICTIONARY newsbot_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION newsbot_search (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION newsbot_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, newsbot_stem;

-- One weighted document per post (title A, summary B, body C: SqlDialect.Postgresql), in its own table as
-- SQLite's posts_fts: body is content_html without tags, which no posts column holds.
CREATE TABLE posts_fts (
    post_id  bigint PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    document tsvector NOT NULL
);

CREATE INDEX posts_fts_document ON posts_fts USING gin (document);
