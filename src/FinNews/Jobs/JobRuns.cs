using Dapper;
using FinNews.Core.Telemetry;
using Npgsql;
using Quartz;
using Serilog.Context;

namespace FinNews.Jobs;

/// <summary>
/// The clustered scheduler's record of job executions (<c>finnews_job_runs</c>, PostgreSQL): one row per execution on
/// any node, written when it starts and completed when it ends, with the slot (scheduled fire time) it ran for.
/// </summary>
/// <remarks>
/// A row left without <c>finished_at</c> by a node that is gone is a run that node did not finish; the node that
/// recovers the job writes its own row with <c>recovering = true</c>. Rows older than the retention period are purged
/// by the retention job. Only the clustered store keeps this log: an in-memory scheduler has nothing to share.
/// </remarks>
public sealed class JobRunLog(string connectionString)
{
    /// <summary>Records the start of an execution; returns the row id.</summary>
    public async Task<long> StartedAsync(IJobExecutionContext context, string instanceId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        await using var c = new NpgsqlConnection(connectionString);
        return await c.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO finnews_job_runs (instance_id, fire_instance_id, job_group, job_name, trigger_group, trigger_name,
              scheduled_fire_time, fired_at, recovering, recovered_trigger, started_at)
            VALUES (@instanceId, @fireInstanceId, @jobGroup, @jobName, @triggerGroup, @triggerName,
              @scheduled, @fired, @recovering, @recoveredTrigger, @at)
            RETURNING id
            """,
            new
            {
                instanceId,
                fireInstanceId = context.FireInstanceId,
                jobGroup = context.JobDetail.Key.Group,
                jobName = context.JobDetail.Key.Name,
                triggerGroup = context.Trigger.Key.Group,
                triggerName = context.Trigger.Key.Name,
                scheduled = context.ScheduledFireTimeUtc,
                fired = context.FireTimeUtc,
                recovering = context.Recovering,
                recoveredTrigger = context.Recovering ? context.RecoveringTriggerKey?.ToString() : null,
                at,
            }, cancellationToken: cancellationToken));
    }

    /// <summary>Records how an execution ended.</summary>
    public async Task FinishedAsync(long id, string outcome, string? error, DateTimeOffset at)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.ExecuteAsync("UPDATE finnews_job_runs SET finished_at = @at, outcome = @outcome, error = @error WHERE id = @id",
            new { id, at, outcome, error });
    }

    /// <summary>Deletes rows started before <paramref name="cutoff"/>; returns how many.</summary>
    public async Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var c = new NpgsqlConnection(connectionString);
        return await c.ExecuteAsync(new CommandDefinition("DELETE FROM finnews_job_runs WHERE started_at < @cutoff", new { cutoff }, cancellationToken: cancellationToken));
    }
}

/// <summary>
/// Wraps every job execution: the log context names the job and its firing (<c>JobId</c>, the fire instance id, and
/// <c>Job</c>), the run is timed into <c>finnews.job.duration</c>, and with the clustered store it is written to the
/// <see cref="JobRunLog"/>. A failure to write the log is logged and never fails the job.
/// </summary>
public sealed class JobRunMiddleware(TimeProvider time, ILogger<JobRunMiddleware> logger, JobRunLog? log = null) : IJobExecutionMiddleware
{
    public async ValueTask Invoke(IJobExecutionContext context, JobExecutionDelegate next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        using var jobId = LogContext.PushProperty("JobId", context.FireInstanceId);
        using var job = LogContext.PushProperty("Job", context.JobDetail.Key.ToString());
        var started = time.GetTimestamp();
        var row = await StartAsync(context, cancellationToken);
        var outcome = "succeeded";
        string? error = null;
        try
        {
            await next(context, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = "cancelled";
            throw;
        }
        catch (Exception ex)
        {
            outcome = "failed";
            error = ex.Message;
            throw;
        }
        finally
        {
            FinNewsMetrics.JobRan(context.JobDetail.Key.Group, outcome, time.GetElapsedTime(started));
            await FinishAsync(row, outcome, error);
        }
    }

    private async Task<long?> StartAsync(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (log is null)
        {
            return null;
        }

        try
        {
            return await log.StartedAsync(context, context.Scheduler.SchedulerInstanceId, time.GetUtcNow(), cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            logger.LogWarning("Job run of {Job} not recorded: {Error}", context.JobDetail.Key, ex.Message);
            return null;
        }
    }

    private async Task FinishAsync(long? row, string outcome, string? error)
    {
        if (log is null || row is null)
        {
            return;
        }

        try
        {
            await log.FinishedAsync(row.Value, outcome, error, time.GetUtcNow());
        }
        catch (NpgsqlException ex)
        {
            logger.LogWarning("Job run {Row} end not recorded: {Error}", row, ex.Message);
        }
    }
}
