-- Users, their settings and refresh tokens. Kept in step with migrations/sqlite
-- (same tables, columns and constraints; INTEGER there is BIGINT here).
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    week_start    TEXT NOT NULL,
    currency      TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE refresh_tokens (
    hash        TEXT PRIMARY KEY,
    family      TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    expires_at  BIGINT NOT NULL,
    -- 'current', 'retired' (rotated) or 'revoked'
    state       TEXT NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
