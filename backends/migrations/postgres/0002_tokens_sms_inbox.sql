-- API tokens, the SMS inbox, transaction keys and bills. Kept in step with
-- migrations/sqlite.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Every forwarded SMS (instants in microseconds since the epoch).
CREATE TABLE sms_inbox (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    sender      TEXT NOT NULL,
    body        TEXT NOT NULL,
    body_hash   TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    class       TEXT NOT NULL,
    -- received, entered, duplicate, bill, ignored, unparsed
    status      TEXT NOT NULL,
    reason      TEXT,
    entry_id    TEXT,
    bill_id     TEXT,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX sms_inbox_hash ON sms_inbox (user_id, body_hash, received_at);
CREATE INDEX sms_inbox_status ON sms_inbox (user_id, status, received_at);
CREATE INDEX sms_inbox_pending ON sms_inbox (status, id);

-- Keys of transactions entered from SMS: 'ref:...' match at any time,
-- 'amt:...' only near `at`.
CREATE TABLE sms_txn_keys (
    user_id  TEXT NOT NULL,
    key      TEXT NOT NULL,
    at       BIGINT NOT NULL,
    entry_id TEXT NOT NULL,
    PRIMARY KEY (user_id, key, at)
);

CREATE TABLE bills (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    sender         TEXT NOT NULL,
    account_last4  TEXT,
    currency       TEXT NOT NULL,
    amount_due     BIGINT NOT NULL,
    min_due        BIGINT,
    due_date       TEXT,
    -- The bill's identity: account (or sender) and due date.
    bill_key       TEXT NOT NULL,
    status         TEXT NOT NULL,
    paid_by        TEXT,
    paid_at        BIGINT,
    sms_id         TEXT NOT NULL,
    received_at    BIGINT NOT NULL,
    UNIQUE (user_id, bill_key)
);
CREATE INDEX bills_user ON bills (user_id, status);
