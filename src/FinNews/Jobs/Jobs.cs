using FinNews.Core.Market;
using FinNews.Core.Search;
using FinNews.Hosting;
using Quartz;

namespace FinNews.Jobs;

/// <summary>Polls every enabled feed once; one pass at a time.</summary>
[DisallowConcurrentExecution]
public sealed class IngestJob(FinNewsPipeline pipeline, ILogger<IngestJob> logger) : IJob
{
    public static readonly JobKey Key = new("ingest", "feeds");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var results = await pipeline.IngestAsync(null, cancellationToken);
        logger.LogInformation("Ingest pass: {Feeds} feeds, {New} new articles, {Failed} failed",
            results.Count, results.Sum(r => r.Counts?.Inserted ?? 0), results.Count(r => r.Error is not null));
    }
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
    public static void AddFinNewsJobs(this IHostApplicationBuilder builder, bool runPipelineAtStart)
    {
        var scheduler = builder.Configuration.GetSection("Scheduler").Get<SchedulerOptions>() ?? new SchedulerOptions();
        var briefingCron = builder.Configuration["Briefing:Schedule"] ?? "0 0 6 * * ?";
        var now = TimeProvider.System.GetUtcNow();
        builder.Services.AddQuartz(q =>
        {
            q.AddJob<IngestJob>(j => j.WithIdentity(IngestJob.Key));
            q.AddTrigger(t => t.ForJob(IngestJob.Key).WithIdentity("ingest-interval")
                .StartAt(now.AddMinutes(scheduler.IngestIntervalMinutes))
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromMinutes(scheduler.IngestIntervalMinutes)).RepeatForever()
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));

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
