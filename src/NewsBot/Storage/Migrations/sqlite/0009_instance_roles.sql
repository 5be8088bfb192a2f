-- Work only one instance of a deployment may do at a time (Telegram's getUpdates long poll: a second poller is
-- refused with 409 Conflict), held by a renewable lease: the holder renews it before each round; when it stops or
-- dies, another instance takes the role once held_until has passed. Timestamps are ISO-8601 UTC text as in 0001.
CREATE TABLE instance_roles (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    held_until TEXT NOT NULL
);
