using FinNews.Core.Market;
using FinNews.Core.Search;
using FinNews.Hosting;
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
[DisallowConcurrentExecution]
public sealed class FeedScheduleJob(FeedCatalog catalog, FeedScheduleState state, ILogger<FeedScheduleJob> logger) : IJob
{
    public static readonly JobKey Key = new("feed-schedule", "maintenance");

    public const string Group = "feeds";

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

        // Trigger times are on the scheduler's own clock: start from this run's fire time.
        var now = context.FireTimeUtc;
        var first = !state.Initialized;
        foreach (var feed in feeds)
        {
            if (state.Scheduled.TryGetValue(feed.Id, out var minutes) && minutes == feed.IntervalMinutes)
            {
                continue;
            }

            // At start, first fires are spread over the interval (at most 5 min) so a restart does not hit every
            // publisher at once, and with the start-up pass (run) the feeds it just ingested wait one interval. A feed
            // added or changed later is polled right away. Due-ness (backoff, Retry-After, pause) is checked per run.
            var interval = TimeSpan.FromMinutes(feed.IntervalMinutes);
            var jitter = first ? TimeSpan.FromSeconds(Random.Shared.NextDouble() * Math.Min(interval.TotalSeconds, 300)) : TimeSpan.Zero;
            var delay = first && state.RunPipelineAtStart ? interval : TimeSpan.Zero;
            var key = new JobKey($"feed-{feed.Id}", Group);
            var job = JobBuilder.Create<FeedPollJob>().WithIdentity(key).UsingJobData(FeedPollJob.FeedIdKey, feed.Id).Build();
            var trigger = TriggerBuilder.Create().ForJob(key).WithIdentity($"feed-{feed.Id}-interval", Group)
                .StartAt(now.Add(delay).Add(jitter))
                .WithSimpleSchedule(x => x.WithInterval(interval).RepeatForever()
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
                .Build();
            await context.Scheduler.ScheduleJob(job, trigger, new ScheduleJobOptions { Replace = true }, cancellationToken);
            state.Scheduled[feed.Id] = feed.IntervalMinutes;
        }

        var current = feeds.Select(f => f.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in state.Scheduled.Keys.Where(id => !current.Contains(id)).ToList())
        {
            await context.Scheduler.DeleteJob(new JobKey($"feed-{gone}", Group), cancellationToken);
            state.Scheduled.Remove(gone);
        }

        state.Initialized = true;
    }
}

/// <summary>The poll jobs <see cref="FeedScheduleJob"/> has scheduled in this process (feed id to interval minutes).</summary>
public sealed class FeedScheduleState(bool runPipelineAtStart)
{
    public bool RunPipelineAtStart { get; } = runPipelineAtStart;

    public bool Initialized { get; set; }

    public Dictionary<string, int> Scheduled { get; } = new(StringComparer.Ordinal);
}

/// <summary>Deletes articles past the retention period from the search index and the store (<see cref="RetentionPass"/>).</summary>
[DisallowConcurrentExecution]
public sealed class RetentionJob(RetentionPass retention, Microsoft.Extensions.Options.IOptions<SchedulerOptions> options, TimeProvider time) : IJob
{
    public static readonly JobKey Key = new("retention", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await retention.RunAsync(time.GetUtcNow().AddDays(-options.Value.RetentionDays), cancellationToken: cancellationToken);
}

/// <summary>Drains unindexed articles into the search index.</summary>
[DisallowConcurrentExecution]
public sealed class IndexJob(SearchIndexer indexer) : IJob
{
    public static readonly JobKey Key = new("index", "search");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await indexer.DrainAsync(cancellationToken: cancellationToken);
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
    /// Quartz with an in-memory store. Misfires: interval jobs skip missed runs and wait for the next slot
    /// (a late poll is as good as an on-time one, a burst is not); the daily briefing fires once if its time was missed
    /// while the process was down.
    /// </summary>
    public static void AddFinNewsJobs(this IHostApplicationBuilder builder, AppPaths paths, TimeProvider time, bool runPipelineAtStart)
    {
        var scheduler = builder.Configuration.GetSection("Scheduler").Get<SchedulerOptions>() ?? new SchedulerOptions();
        var briefingCron = builder.Configuration["Briefing:Schedule"] ?? "0 0 6 * * ?";
        var now = time.GetUtcNow();
        builder.Services.AddSingleton(new FeedScheduleState(runPipelineAtStart));
        builder.Services.AddQuartz(q =>
        {
            // One poll job per feed of the effective list, kept in step with the store by the feed-schedule job.
            q.AddJob<FeedScheduleJob>(j => j.WithIdentity(FeedScheduleJob.Key));
            q.AddTrigger(t => t.ForJob(FeedScheduleJob.Key).WithIdentity("feed-schedule-interval")
                .StartNow()
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(scheduler.FeedListSyncSeconds)).RepeatForever()
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));

            q.AddDigestJob();

            q.AddJob<RetentionJob>(j => j.WithIdentity(RetentionJob.Key));
            q.AddTrigger(t => t.ForJob(RetentionJob.Key).WithIdentity("retention-daily")
                .WithCronSchedule("0 15 3 * * ?", c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));

            q.AddJob<IndexJob>(j => j.WithIdentity(IndexJob.Key));
            q.AddTrigger(t => t.ForJob(IndexJob.Key).WithIdentity("index-interval")
                .StartAt(now.AddSeconds(scheduler.IndexIntervalSeconds))
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(scheduler.IndexIntervalSeconds)).RepeatForever()
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));

            q.AddJob<MarketDataJob>(j => j.WithIdentity(MarketDataJob.Key));
            q.AddTrigger(t => t.ForJob(MarketDataJob.Key).WithIdentity("market-data-cron")
                .WithCronSchedule(scheduler.MarketDataSchedule, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));

            q.AddJob<BriefingJob>(j => j.WithIdentity(BriefingJob.Key));
            q.AddTrigger(t => t.ForJob(BriefingJob.Key).WithIdentity("briefing-cron")
                .WithCronSchedule(briefingCron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        if (runPipelineAtStart)
        {
            builder.Services.AddHostedService<StartupPass>();
        }
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

/// <summary>What the start-up pass is doing, shown on the page until the first briefing exists.</summary>
public sealed class FirstPassStatus
{
    public string State { get; set; } = "starting";
}
