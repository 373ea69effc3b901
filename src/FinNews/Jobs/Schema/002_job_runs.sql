-- FinNews schema migration 2: one row per job execution on any node of the cluster (written by JobRunLog), so an
-- operator can see which node ran what, when, for which scheduled slot, and how it ended. A row without finished_at
-- whose node is gone is a run that node did not finish (its job is recovered by another node, with recovering = true).
CREATE TABLE IF NOT EXISTS finnews_job_runs (
  id bigserial PRIMARY KEY,
  instance_id text NOT NULL,
  fire_instance_id text NOT NULL,
  job_group text NOT NULL,
  job_name text NOT NULL,
  trigger_group text NOT NULL,
  trigger_name text NOT NULL,
  scheduled_fire_time timestamptz NULL,
  fired_at timestamptz NOT NULL,
  recovering boolean NOT NULL,
  recovered_trigger text NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NULL,
  outcome text NULL,
  error text NULL
);

CREATE INDEX IF NOT EXISTS ix_finnews_job_runs_job_slot ON finnews_job_runs (job_group, job_name, scheduled_fire_time);

CREATE INDEX IF NOT EXISTS ix_finnews_job_runs_started ON finnews_job_runs (started_at);
