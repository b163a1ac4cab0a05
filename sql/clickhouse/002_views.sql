-- Analyst views: the names and columns of sql/datafusion/views.sql.
-- entries: live entries only, local_date is the day in the owner's zone.

CREATE VIEW IF NOT EXISTS entries AS
SELECT UUIDNumToString(live_entry_id) AS entry_id,
       UUIDNumToString(live_user_id) AS user_id,
       kind, amount_minor, currency, occurred_at, local_date, merchant, note,
       category, category_source, category_reason, source,
       toDateTime(intDiv(created_at_us, 1000000), 'UTC') AS created_at
FROM (
    SELECT user_id AS live_user_id, entry_id AS live_entry_id, kind, amount_minor, currency,
           occurred_at, local_date, merchant, note, category, category_source, category_reason,
           source, created_at_us
    FROM entry_changes
    WHERE sign = 1 AND (user_id, entry_id, version) IN (
        SELECT user_id, entry_id, max(version)
        FROM entry_changes
        GROUP BY user_id, entry_id
        HAVING sum(sign) > 0
    )
    LIMIT 1 BY live_user_id, live_entry_id
);

CREATE VIEW IF NOT EXISTS expenses AS
SELECT * FROM entries WHERE kind = 'expense';

CREATE VIEW IF NOT EXISTS daily_spend AS
SELECT user_id,
       local_date AS day,
       category,
       currency,
       sum(if(kind = 'expense', amount_minor, toInt64(0))) AS spent_minor,
       sum(if(kind = 'income', amount_minor, toInt64(0))) AS income_minor,
       count() AS entries
FROM entries
GROUP BY user_id, local_date, category, currency;

CREATE VIEW IF NOT EXISTS monthly_spend AS
SELECT user_id,
       toStartOfMonth(local_date) AS month,
       category,
       currency,
       sum(if(kind = 'expense', amount_minor, toInt64(0))) AS spent_minor,
       sum(if(kind = 'income', amount_minor, toInt64(0))) AS income_minor,
       count() AS entries
FROM entries
GROUP BY user_id, toStartOfMonth(local_date), category, currency;

CREATE VIEW IF NOT EXISTS merchant_spend AS
SELECT user_id,
       merchant,
       currency,
       sum(amount_minor) AS spent_minor,
       count() AS entries,
       min(occurred_at) AS first_seen,
       max(occurred_at) AS last_seen
FROM entries
WHERE kind = 'expense' AND isNotNull(merchant)
GROUP BY user_id, merchant, currency;
