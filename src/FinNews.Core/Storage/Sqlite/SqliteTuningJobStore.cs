using Dapper;
using FinNews.Core.Tuning;

namespace FinNews.Core.Storage.Sqlite;

/// <summary>
/// The tuning jobs submitted from this installation, in their own table of the system-of-record SQLite file: the job
/// id survives the terminal that submitted it, and <c>tune status</c> records each state it sees.
/// </summary>
public sealed class SqliteTuningJobStore : ITuningJobStore
{
    private readonly string _connectionString;

    public SqliteTuningJobStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _connectionString = connectionString;
        using var c = SqliteStore.OpenConnection(_connectionString);
        c.Execute("""
            CREATE TABLE IF NOT EXISTS tuning_jobs (
              job_id TEXT PRIMARY KEY,
              profile TEXT NOT NULL,
              base_model TEXT NOT NULL,
              suffix TEXT,
              dataset TEXT,
              status TEXT NOT NULL,
              fine_tuned_model TEXT,
              error TEXT,
              candidate TEXT,
              submitted_at INTEGER NOT NULL,
              updated_at INTEGER NOT NULL
            )
            """);
    }

    /// <inheritdoc/>
    public void Add(TuningJobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        using var c = SqliteStore.OpenConnection(_connectionString);
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
        using var c = SqliteStore.OpenConnection(_connectionString);
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
        using var c = SqliteStore.OpenConnection(_connectionString);
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
