-- Analyst views on the embedded engine (DataFusion). ClickHouse gets the same
-- names and columns in sql/clickhouse/. Base table: entries (live entries only;
-- local_date is the entry's day in its owner's time zone).

CREATE VIEW expenses AS
SELECT * FROM entries WHERE kind = 'expense';

CREATE VIEW daily_spend AS
SELECT user_id,
       local_date AS day,
       category,
       currency,
       SUM(CASE WHEN kind = 'expense' THEN amount_minor ELSE 0 END) AS spent_minor,
       SUM(CASE WHEN kind = 'income' THEN amount_minor ELSE 0 END) AS income_minor,
       COUNT(*) AS entries
FROM entries
GROUP BY user_id, local_date, category, currency;

CREATE VIEW monthly_spend AS
SELECT user_id,
       date_trunc('month', local_date) AS month,
       category,
       currency,
       SUM(CASE WHEN kind = 'expense' THEN amount_minor ELSE 0 END) AS spent_minor,
       SUM(CASE WHEN kind = 'income' THEN amount_minor ELSE 0 END) AS income_minor,
       COUNT(*) AS entries
FROM entries
GROUP BY user_id, date_trunc('month', local_date), category, currency;

CREATE VIEW merchant_spend AS
SELECT user_id,
       merchant,
       currency,
       SUM(amount_minor) AS spent_minor,
       COUNT(*) AS entries,
       MIN(occurred_at) AS first_seen,
       MAX(occurred_at) AS last_seen
FROM entries
WHERE kind = 'expense' AND merchant IS NOT NULL
GROUP BY user_id, merchant, currency;
