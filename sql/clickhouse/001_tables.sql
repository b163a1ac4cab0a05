-- Tables of the ClickHouse analytics store. Runs on ClickHouse 18.16 and on
-- current releases: no DateTime64 (instants are Int64 microseconds, plus a
-- DateTime column for analysts), no LowCardinality. Ids are FixedString(16):
-- the UUID's bytes, so ordering matches the Rust side and UUIDNumToString
-- shows them. Every table's key starts with user_id: per-user reads touch only
-- that user's rows.

-- Entry versions, collapsing: a change writes the old row again with sign -1
-- and the new row with sign +1 in one insert, so sum(sign) > 0 marks the live
-- version and any filter plus sum(sign) counts only live entries. No
-- partitions and small granules: a user's time window is a short key range.
CREATE TABLE IF NOT EXISTS entry_changes (
    user_id FixedString(16),
    entry_id FixedString(16),
    sign Int8,
    version UInt64,
    kind String,
    amount_minor Int64,
    currency String,
    occurred_at_us Int64,
    occurred_at DateTime('UTC'),
    local_date Date,
    merchant Nullable(String),
    merchant_agg String,
    merchant_display String,
    merchant_key String,
    note Nullable(String),
    category String,
    category_source String,
    category_reason String,
    user_category Nullable(String),
    source String,
    created_at_us Int64,
    origin String
) ENGINE = CollapsingMergeTree(sign)
ORDER BY (user_id, occurred_at_us, entry_id)
SETTINGS index_granularity = 1024;

-- Removed ids: an id here is never added again.
CREATE TABLE IF NOT EXISTS entry_tombstones (
    user_id FixedString(16),
    entry_id FixedString(16),
    removed_at_us Int64
) ENGINE = ReplacingMergeTree
ORDER BY (user_id, entry_id);

-- Daily cells, kept by a materialized view from the same insert as the rows
-- (summed per insert, and again by merges). Small granules: a user's date
-- range reads little.
CREATE TABLE IF NOT EXISTS daily_cells (
    user_id FixedString(16),
    local_date Date,
    category String,
    currency String,
    kind String,
    amount_minor Int64,
    entries Int64
) ENGINE = SummingMergeTree((amount_minor, entries))
ORDER BY (user_id, local_date, category, currency, kind)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS daily_cells_mv TO daily_cells AS
SELECT user_id, local_date, category, currency, kind,
       sum(amount_minor * sign) AS amount_minor, sum(toInt64(sign)) AS entries
FROM entry_changes
GROUP BY user_id, local_date, category, currency, kind;

-- Expense totals per month and merchant (top merchants of whole months).
CREATE TABLE IF NOT EXISTS merchant_months (
    user_id FixedString(16),
    month Date,
    merchant_agg String,
    currency String,
    merchant_display String,
    amount_minor Int64,
    entries Int64
) ENGINE = SummingMergeTree((amount_minor, entries))
ORDER BY (user_id, month, merchant_agg, currency)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS merchant_months_mv TO merchant_months AS
SELECT user_id, toStartOfMonth(local_date) AS month, merchant_agg, currency,
       any(merchant_display) AS merchant_display,
       sum(amount_minor * sign) AS amount_minor, sum(toInt64(sign)) AS entries
FROM entry_changes
WHERE kind = 'expense' AND isNotNull(merchant)
GROUP BY user_id, month, merchant_agg, currency;

-- One row per user and change: the version reads key caches on, the zone the
-- daily cells are cut in, and the profile (settings, learned rules, budgets,
-- alerts, bills) as JSON.
CREATE TABLE IF NOT EXISTS user_state (
    user_id FixedString(16),
    version UInt64,
    time_zone String,
    profile String
) ENGINE = ReplacingMergeTree(version)
ORDER BY user_id;

-- Next log offset applied, per partition (wait_applied across processes).
CREATE TABLE IF NOT EXISTS applied_offsets (
    partition UInt32,
    next_offset UInt64
) ENGINE = ReplacingMergeTree(next_offset)
ORDER BY partition;
