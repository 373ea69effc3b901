-- FinNews on PostgreSQL, version 2: the tuning jobs submitted from this installation (`finnews tune submit|status`),
-- the same columns and meanings as SQLite's tuning_jobs table. Instants are epoch milliseconds (UTC).
CREATE TABLE tuning_jobs (
  job_id text PRIMARY KEY,
  profile text NOT NULL,
  base_model text NOT NULL,
  suffix text,
  dataset text,
  status text NOT NULL,
  fine_tuned_model text,
  error text,
  candidate text,
  submitted_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
