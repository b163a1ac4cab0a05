-- Messenger chats, their dialogue state, and link codes (issue 6). Kept in step
-- with migrations/sqlite. Instants in microseconds since the epoch.
CREATE TABLE chats (
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    -- NULL until the chat signs up or is linked to an account.
    user_id    TEXT REFERENCES users (id),
    -- The bot's dialogue state, JSON.
    state      TEXT NOT NULL,
    -- Compare-and-set: every save names the version it read.
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (channel, chat_id)
);
CREATE INDEX chats_user ON chats (user_id);

-- One-time codes that link a chat to an account made through the API (only
-- the SHA-256 of a code is kept).
CREATE TABLE link_codes (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX link_codes_user ON link_codes (user_id);
