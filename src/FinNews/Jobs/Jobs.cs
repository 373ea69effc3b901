using FinNews.Core;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Search;
using Quartz;

namespace FinNews.Jobs;

/// <summary>Polls one feed (its id in the job data) when it is due: backoff, Retry-After and pauses are respected.</summary>
[DisallowConcurrentExecution]
public sealed class FeedPollJob(FinNewsPipeline pipeline, FeedCatalog catalog, ILogger<FeedPollJob> logger) : IJob
{
    public const string FeedIdKey = "feedId";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var feedId = context.MergedJobDataMap.GetString(FeedIdKey);
        var feed = feedId is null ? null : catalog.Find(feedId)?.Definition;
        if (feed is null || !feed.Enabled)
        {
            logger.LogInformation("Feed {FeedId} is no longer in the feed list or enabled; poll skipped", feedId);
            return;
        }

        var results = await pipeline.IngestDueAsync([feed], cancellationToken);
        foreach (var r in results)
        {
            logger.LogInformation("Feed {FeedId} polled: {New} new, {Error}", r.FeedId, r.Counts?.Inserted ?? 0, r.Error ?? "ok");
        }
    }
}

/// <summary>
/// Keeps one poll job per enabled feed of the effective list (read from the store, so feeds added or removed through
/// the CLI or the API by any process are picked up): schedules new feeds, reschedules changed intervals, deletes the
/// jobs of feeds that are gone or disabled. Runs at start and then every <see cref="SchedulerOptions.FeedListSyncSeconds"/>.
/// </summary>
/// <remarks>
/// What is scheduled is read from the scheduler itself, not remembered in the process: with the clustered store the
/// sync runs on whichever node fires it, and every node must see the same poll jobs. Each feed has its own job key
/// (<c>feeds.feed-{id}</c>) and <see cref="FeedPollJob"/> disallows concurrent execution, so a feed is polled by one node
/// at a time across the cluster.
/// </remarks>
[DisallowConcurrentExecution]
public sealed class FeedScheduleJob(FeedCatalog catalog, FeedScheduleSettings settings, ILogger<FeedScheduleJob> logger) : IJob
{
    public static readonly JobKey Key = new("feed-schedule", "maintenance");

    public const string Group = "feeds";

    public static JobKey PollJobKey(string feedId) => new($"feed-{feedId}", Group);

    public static TriggerKey PollTriggerKey(string feedId) => new($"feed-{feedId}-interval", Group);

    /// <summary>
    /// A poll that could not start on time (every thread busy, e.g. many feeds added at once, or every node down for a
    /// while) runs as soon as it can, once, and the feed's interval counts from then: a late poll is as good as an
    /// on-time one, and a burst of catch-up polls is not. (Skipping to the next slot made a new feed that waited longer
    /// than the misfire threshold for a thread wait a whole interval for its first poll.)
    /// </summary>
    public const SimpleTriggerMisfireInstruction PollMisfire = SimpleTriggerMisfireInstruction.NowWithExistingCount;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        IReadOnlyList<FinNews.Core.Feeds.FeedDefinition> feeds;
        try
        {
            feeds = catalog.Feeds().Where(f => f.Enabled).ToList();
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or Microsoft.Data.Sqlite.SqliteException)
        {
            logger.LogError(ex, "Feed schedule not updated: the feed list could not be read");
            return;
        }

        try
        {
            await SyncAsync(context, feeds, cancellationToken);
        }
        catch (SchedulerException) when (context.Scheduler.Status is SchedulerStatus.ShuttingDown or SchedulerStatus.Shutdown)
        {
            // The node is stopping (SIGTERM) in the middle of a sync; the next sync, on any node, completes it.
            logger.LogInformation("Feed schedule sync cut short: the scheduler is shutting down");
        }
    }

    private async Task SyncAsync(IJobExecutionContext context, IReadOnlyList<FinNews.Core.Feeds.FeedDefinition> feeds, CancellationToken cancellationToken)
    {
        var scheduler = context.Scheduler;
        var scheduled = new Dictionary<string, ISimpleTrigger?>(StringComparer.Ordinal);
        foreach (var key in await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(Group), cancellationToken))
        {
            var feedId = key.Name["feed-".Length..];
            scheduled[feedId] = await scheduler.GetTrigger(PollTriggerKey(feedId), cancellationToken) as ISimpleTrigger;
        }

        // Trigger times are on the scheduler's own clock: start from this run's fire time. The first run of this
        // schedule (ever, with the clustered store; since start, in memory) has no previous fire time.
        var now = context.FireTimeUtc;
        var first = context.PreviousFireTimeUtc is null;
        foreach (var feed in feeds)
        {
            var interval = TimeSpan.FromMinutes(feed.IntervalMinutes);
            var current = scheduled.GetValueOrDefault(feed.Id);
            if (current?.RepeatInterval == interval && current.MisfireInstruction == PollMisfire)
            {
                continue;
            }

            // At start, first fires are spread over the interval (at most 5 min) so a restart does not hit every
            // publisher at once, and with the start-up pass (run) the feeds it just ingested wait one interval. A feed
            // added or changed later is polled right away. Due-ness (backoff, Retry-After, pause) is checked per run.
            var jitter = first ? TimeSpan.FromSeconds(Random.Shared.NextDouble() * Math.Min(interval.TotalSeconds, 300)) : TimeSpan.Zero;
            var delay = first && settings.RunPipelineAtStart ? interval : TimeSpan.Zero;
            var key = PollJobKey(feed.Id);
            // RequestRecovery: a node that dies mid-poll has the poll re-run by another (the fetch commits in one
            // transaction, so a poll cut short stored nothing and a re-run duplicates nothing).
            var job = JobBuilder.Create<FeedPollJob>().WithIdentity(key).UsingJobData(FeedPollJob.FeedIdKey, feed.Id).RequestRecovery().Build();
            // A trigger written before its misfire rule changed keeps its next poll time (only the rule is updated).
            var start = current?.RepeatInterval == interval && current.NextFireTimeUtc is { } next ? next : now.Add(delay).Add(jitter);
            var trigger = TriggerBuilder.Create().ForJob(key).WithIdentity(PollTriggerKey(feed.Id))
                .StartAt(start)
                .WithSimpleSchedule(x => x.WithInterval(interval).RepeatForever().WithMisfireInstruction(PollMisfire))
                .Build();
            await scheduler.ScheduleJob(job, trigger, new ScheduleJobOptions { Replace = true }, cancellationToken);
        }

        var wanted = feeds.Select(f => f.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in scheduled.Keys.Where(id => !wanted.Contains(id)))
        {
            await scheduler.DeleteJob(PollJobKey(gone), cancellationToken);
        }
    }
}

/// <summary>How <see cref="FeedScheduleJob"/> starts the poll jobs in this process.</summary>
/// <param name="RunPipelineAtStart">True with `run`: the start-up pass has just ingested every feed, so first polls wait one interval.</param>
public sealed record FeedScheduleSettings(bool RunPipelineAtStart);

/// <summary>Deletes articles past the retention period from the search index and the store (<see cref="RetentionPass"/>).</summary>
/// <remarks>With the clustered store it also purges the job-run log past <see cref="JobRunRetentionDays"/>.</remarks>
[DisallowConcurrentExecution]
public sealed class RetentionJob(RetentionPass retention, Microsoft.Extensions.Options.IOptions<SchedulerOptions> options, TimeProvider time,
    JobRunLog? runs = null) : IJob
{
    public const int JobRunRetentionDays = 30;

    public static readonly JobKey Key = new("retention", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (runs is not null)
        {
            await runs.PurgeAsync(time.GetUtcNow().AddDays(-JobRunRetentionDays), cancellationToken);
        }

        await retention.RunAsync(time.GetUtcNow().AddDays(-options.Value.RetentionDays), cancellationToken: cancellationToken);
    }
}

/// <summary>Drains unindexed articles into the search index.</summary>
[DisallowConcurrentExecution]
public sealed class IndexJob(SearchIndexer indexer) : IJob
{
    public static readonly JobKey Key = new("index", "search");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await indexer.DrainAsync(cancellationToken: cancellationToken, waitForOtherNodes: false);
}

/// <summary>Loads configured market-data files.</summary>
[DisallowConcurrentExecution]
public sealed class MarketDataJob(MarketDataLoader loader) : IJob
{
    public static readonly JobKey Key = new("market-data", "market");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await loader.LoadAllAsync(cancellationToken);
}

/// <summary>Writes the scheduled briefing.</summary>
[DisallowConcurrentExecution]
public sealed class BriefingJob(FinNewsPipeline pipeline, ILogger<BriefingJob> logger) : IJob
{
    public static readonly JobKey Key = new("briefing", "briefings");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var (briefing, files) = await pipeline.BriefAsync(null, cancellationToken);
        logger.LogInformation("Briefing {BriefingId} written to {Files}", briefing.Id, files);
    }
}

/// <summary>Scheduler registration for `worker` and `run`.</summary>
public static class JobRegistration
{
    /// <summary>
    /// Quartz with the store <see cref="SchedulerOptions.Store"/> names: in memory (the default), or PostgreSQL's
    /// clustered job store, whose schema is migrated at start (<see cref="PostgresSchema"/>). Every job requests
    /// recovery (each is safe to re-run: polls and index drains commit in one transaction, digests claim each send).
    /// Misfires (a trigger later than <see cref="SchedulerOptions.MisfireThresholdSeconds"/>, in either store): the index and
    /// feed-list jobs skip to their next slot, a feed poll runs once as soon as it can (<see cref="FeedScheduleJob.PollMisfire"/>),
    /// the daily briefing fires once if its time was missed while every node was down.
    /// </summary>
    /// <param name="builder">The worker's (or `run`'s) builder.</param>
    /// <param name="time">The host's clock.</param>
    /// <param name="runPipelineAtStart">True with `run`: ingest and write a briefing at start (<see cref="StartupPass"/>).</param>
    /// <param name="postgresConnection">The PostgreSQL connection string (FINNEWS_POSTGRES_CONNECTION), needed by the clustered store only.</param>
    public static void AddFinNewsJobs(this IHostApplicationBuilder builder, TimeProvider time, bool runPipelineAtStart, string? postgresConnection)
    {
        var scheduler = builder.Configuration.GetSection("Scheduler").Get<SchedulerOptions>() ?? new SchedulerOptions();
        var briefingCron = builder.Configuration["Briefing:Schedule"] ?? "0 0 6 * * ?";
        var now = time.GetUtcNow();
        var clustered = scheduler.Store == "postgres";
        var connectionString = postgresConnection;
        if (clustered)
        {
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidDataException("Scheduler:Store = 'postgres' needs a PostgreSQL connection string: set FINNEWS_POSTGRES_CONNECTION (the same database as Storage:Provider = postgres).");
            }

            // Before Quartz's hosted service (registered below), so the schema exists when the job store validates it.
            var where = PostgresSchema.Describe(connectionString);
            builder.Services.AddHostedService(sp => new PostgresSchemaMigrator(new PostgresSchema(connectionString, time), where, time,
                sp.GetRequiredService<ILogger<PostgresSchemaMigrator>>()));
            builder.Services.AddSingleton(new JobRunLog(connectionString));
        }

        builder.Services.AddSingleton(new FeedScheduleSettings(runPipelineAtStart));
        builder.Services.AddQuartz(q =>
        {
            q.ConfigureScheduler(o => o.InstanceName = "finnews");
            q.UseDefaultThreadPool(scheduler.MaxConcurrentJobs);
            if (clustered)
            {
                ConfigureClusteredStore(q, scheduler, connectionString!);
            }
            else
            {
                // The same lateness rule as the clustered store (Quartz's in-memory default is 5 s).
                q.UseInMemoryStore(o => o.MisfireThreshold = TimeSpan.FromSeconds(scheduler.MisfireThresholdSeconds));
            }

            q.AddJobMiddleware<JobRunMiddleware>();

            // One poll job per feed of the effective list, kept in step with the store by the feed-schedule job.
            q.AddJob<FeedScheduleJob>(j => j.WithIdentity(FeedScheduleJob.Key).RequestRecovery());
            q.AddTrigger(t => t.ForJob(FeedScheduleJob.Key).WithIdentity("feed-schedule-interval")
                .StartNow()
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(scheduler.FeedListSyncSeconds)).RepeatForever()
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));

            q.AddDigestJob();

            q.AddJob<RetentionJob>(j => j.WithIdentity(RetentionJob.Key).RequestRecovery());
            q.AddTrigger(t => t.ForJob(RetentionJob.Key).WithIdentity("retention-daily")
                .WithCronSchedule("0 15 3 * * ?", c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));

            q.AddJob<IndexJob>(j => j.WithIdentity(IndexJob.Key).RequestRecovery());
            q.AddTrigger(t => t.ForJob(IndexJob.Key).WithIdentity("index-interval")
                .StartAt(now.AddSeconds(scheduler.IndexIntervalSeconds))
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(scheduler.IndexIntervalSeconds)).RepeatForever()
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));

            q.AddJob<MarketDataJob>(j => j.WithIdentity(MarketDataJob.Key).RequestRecovery());
            q.AddTrigger(t => t.ForJob(MarketDataJob.Key).WithIdentity("market-data-cron")
                .WithCronSchedule(scheduler.MarketDataSchedule, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));

            q.AddJob<BriefingJob>(j => j.WithIdentity(BriefingJob.Key).RequestRecovery());
            q.AddTrigger(t => t.ForJob(BriefingJob.Key).WithIdentity("briefing-cron")
                .WithCronSchedule(briefingCron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        if (runPipelineAtStart)
        {
            builder.Services.AddHostedService<StartupPass>();
        }
    }

    /// <summary>
    /// The clustered ADO job store on PostgreSQL. Every node declares the same jobs and triggers at start; a declared
    /// trigger replaces the stored one but keeps its firing history, so a node (re)starting neither re-fires a slot
    /// that already ran nor shifts the schedule. Quartz validates the schema our migrations created (it never creates it).
    /// A dead node's jobs start again elsewhere within <see cref="SchedulerOptions.RecoveryBound"/> (how that follows
    /// from the check-in settings is explained there).
    /// </summary>
    private static void ConfigureClusteredStore(IQuartzBuilder q, SchedulerOptions scheduler, string connectionString)
    {
        if (!string.IsNullOrWhiteSpace(scheduler.InstanceId))
        {
            q.ConfigureScheduler(o => o.InstanceId = scheduler.InstanceId);
        }

        q.ConfigureOptions<QuartzOptions>(o => o.Scheduling.ScheduleTriggerRelativeToReplacedTrigger = true);

        q.UsePersistentStore(store =>
        {
            store.UsePostgres(connectionString);
            store.UseSystemTextJsonSerializer();
            store.ConfigureStore(o =>
            {
                o.StoreJobDataAsStrings = true;
                o.TablePrefix = "qrtz_";
                o.MisfireThreshold = TimeSpan.FromSeconds(scheduler.MisfireThresholdSeconds);
                o.MisfireHandlerFrequency = TimeSpan.FromSeconds(Math.Min(scheduler.MisfireScanSeconds, scheduler.MisfireThresholdSeconds));
                o.SchemaProvisioning = SchemaProvisioning.Validate;
            });
            store.UseClustering(c =>
            {
                c.CheckinInterval = TimeSpan.FromSeconds(scheduler.CheckinIntervalSeconds);
                c.CheckinMisfireThreshold = TimeSpan.FromSeconds(scheduler.CheckinMisfireThresholdSeconds);
            });
        });
    }
}

/// <summary>On start of `run`: ingest everything and write a briefing right away, so the first page has one.</summary>
public sealed class StartupPass(FinNewsPipeline pipeline, FirstPassStatus status, ILogger<StartupPass> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            status.State = "ingesting feeds";
            var results = await pipeline.IngestAsync(null, stoppingToken);
            status.State = "writing the first briefing";
            var (briefing, files) = await pipeline.BriefAsync(null, stoppingToken);
            logger.LogInformation("First pass: {Feeds} feeds ({Failed} failed), briefing {BriefingId} written to {Files}",
                results.Count, results.Count(r => r.Error is not null), briefing.Id, files);
            status.State = "done";
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            status.State = "stopped";
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
        {
            status.State = "failed: " + ex.Message;
            logger.LogError(ex, "First pass failed");
        }
    }
}
