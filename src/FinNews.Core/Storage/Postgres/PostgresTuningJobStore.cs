using Dapper;
using FinNews.Core.Tuning;

namespace FinNews.Core.Storage.Postgres;

/// <summary>
/// The tuning jobs on PostgreSQL (table created by migration 0002 in <see cref="PostgresStore.Initialize"/>), with the
/// same rules as <see cref="Sqlite.SqliteTuningJobStore"/>: a job is recorded once, and each later status overwrites it.
/// </summary>
public sealed class PostgresTuningJobStore : ITuningJobStore
{
    private readonly PostgresStore _store;

    /// <param name="store">The migrated PostgreSQL store whose connections this uses.</param>
    public PostgresTuningJobStore(PostgresStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <inheritdoc/>
    public void Add(TuningJobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        using var c = _store.Open();
        c.Execute("""
            INSERT INTO tuning_jobs(job_id, profile, base_model, suffix, dataset, status, fine_tuned_model, error, candidate, submitted_at, updated_at)
            VALUES (@JobId, @Profile, @BaseModel, @Suffix, @Dataset, @Status, @FineTunedModel, @Error, @Candidate, @SubmittedAt, @UpdatedAt)
            ON CONFLICT(job_id) DO NOTHING
            """, new
        {
            job.JobId, job.Profile, job.BaseModel, job.Suffix, job.Dataset, job.Status, job.FineTunedModel, job.Error, job.Candidate,
            SubmittedAt = job.SubmittedAt.ToUnixTimeMilliseconds(),
            UpdatedAt = job.UpdatedAt.ToUnixTimeMilliseconds(),
        });
    }

    /// <inheritdoc/>
    public void Update(TuningJobInfo job, string profile, DateTimeOffset at, string? candidate = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        using var c = _store.Open();
        c.Execute("""
            INSERT INTO tuning_jobs(job_id, profile, base_model, suffix, status, fine_tuned_model, error, candidate, submitted_at, updated_at)
            VALUES (@Id, @profile, @Model, @Suffix, @Status, @FineTunedModel, @Error, @candidate, @at, @at)
            ON CONFLICT(job_id) DO UPDATE SET status = excluded.status, fine_tuned_model = excluded.fine_tuned_model, error = excluded.error,
              candidate = COALESCE(excluded.candidate, tuning_jobs.candidate), updated_at = excluded.updated_at
            """, new { job.Id, profile, job.Model, job.Suffix, job.Status, job.FineTunedModel, job.Error, candidate, at = at.ToUnixTimeMilliseconds() });
    }

    /// <inheritdoc/>
    public TuningJobRecord? Find(string jobId)
    {
        using var c = _store.Open();
        return c.Query<Row>("SELECT * FROM tuning_jobs WHERE job_id = @jobId", new { jobId }).Select(r => r.ToRecord()).SingleOrDefault();
    }

#pragma warning disable CA1812, IDE1006 // Instantiated by Dapper; names mirror the snake_case columns.
    private sealed class Row
    {
        public string job_id { get; set; } = "";
        public string profile { get; set; } = "";
        public string base_model { get; set; } = "";
        public string? suffix { get; set; }
        public string? dataset { get; set; }
        public string status { get; set; } = "";
        public string? fine_tuned_model { get; set; }
        public string? error { get; set; }
        public string? candidate { get; set; }
        public long submitted_at { get; set; }
        public long updated_at { get; set; }

        public TuningJobRecord ToRecord() => new(job_id, profile, base_model, suffix, dataset, status, fine_tuned_model, error, candidate,
            DateTimeOffset.FromUnixTimeMilliseconds(submitted_at), DateTimeOffset.FromUnixTimeMilliseconds(updated_at));
    }
#pragma warning restore CA1812, IDE1006
}
