using System.Globalization;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Jobs;
using Microsoft.Extensions.Options;

namespace FinNews.Hosting;

/// <summary>Files and folders (section "FinNews").</summary>
public sealed class FinNewsOptions
{
    /// <summary>Data folder (database, briefings, logs), relative to the folder holding config/.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Feed list, relative to the config folder.</summary>
    public string FeedsFile { get; set; } = "feeds.json";

    /// <summary>Watchlist, relative to the config folder.</summary>
    public string WatchlistFile { get; set; } = "watchlist.json";
}

/// <summary>The web server (section "Web").</summary>
public sealed class WebOptions
{
    /// <summary>Listen URLs, separated by ';'.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5080";

    /// <summary>
    /// The address readers reach the site at (e.g. <c>https://news.example.com</c>), which may differ from the listen
    /// URLs behind a proxy. Links to the site's own pages (a market citation's <c>/market/NVLX</c>) in exported and
    /// published files are made absolute under it; empty (the default): such links are written as plain text there.
    /// </summary>
    public string PublicBaseUrl { get; set; } = "";
}

/// <summary>Search settings (section "Search").</summary>
public sealed class SearchOptions
{
    /// <summary>Index backend: "sqlite" (embedded, default) or "elasticsearch" (section "Elasticsearch").</summary>
    public string Backend { get; set; } = "sqlite";

    /// <summary>
    /// Embedder: "hashing" (offline default, fastest ingest), "arctic" (the local sentence model, best hybrid relevance,
    /// about 0.08 s of CPU per chunk), "glove" (after `finnews models install glove`) or "openai" (models.json "embedding").
    /// </summary>
    public string Embedder { get; set; } = "hashing";

    /// <summary>Vector dimension of the hashing embedder.</summary>
    public int Dimensions { get; set; } = 256;

    /// <summary>
    /// Hybrid fusion for every backend: "convex" (min-max normalized score mix, the default) or "rrf" (weighted reciprocal
    /// rank). Elasticsearch's client-side path runs the same code with the same weights, so results agree across backends.
    /// </summary>
    public string Fusion { get; set; } = "convex";

    /// <summary>
    /// Weight of the vector side in hybrid fusion, 0..1; unset, the embedder's own default (0.15 for the offline
    /// hashing and GloVe embedders, 0.5 for arctic; see bench/README.md).
    /// </summary>
    public double? VectorWeight { get; set; }

    /// <summary>The reciprocal-rank constant k (also the rank_constant of Elasticsearch's rrf retriever).</summary>
    public int RrfK { get; set; } = FinNews.Core.Search.FusionSettings.Default.RrfK;

    /// <summary>
    /// The relevance floor: the least cosine a vector hit needs when lexical search did not find it too; unset, the
    /// embedder's own default (hashing 0.25, arctic 0.55, glove 0.5, openai 0.3; see bench/README.md).
    /// </summary>
    public double? VectorFloor { get; set; }

    /// <summary>The fusion settings both backends take.</summary>
    public FinNews.Core.Search.FusionSettings FusionSettings() =>
        new(FinNews.Core.Search.FusionSettings.TryParseFusion(Fusion, out var fusion) ? fusion : FinNews.Core.Search.HybridFusion.Convex, VectorWeight ?? FinNews.Core.Search.FusionSettings.DefaultVectorWeightFor(Embedder), RrfK,
            VectorFloor ?? FinNews.Core.Search.FusionSettings.DefaultVectorFloorFor(Embedder));
}

/// <summary>Validates every options section; each failure names the configuration key and the bad value.</summary>
public sealed class FinNewsOptionsValidator :
    IValidateOptions<FinNewsOptions>, IValidateOptions<WebOptions>, IValidateOptions<SchedulerOptions>,
    IValidateOptions<SearchOptions>, IValidateOptions<BriefingOptions>, IValidateOptions<FetchOptions>, IValidateOptions<MarketOptions>,
    IValidateOptions<PollOptions>
{
    public ValidateOptionsResult Validate(string? name, PollOptions o) => Check(
        Range("Polling:BackoffBaseSeconds", o.BackoffBaseSeconds, 1, 86400),
        Range("Polling:BackoffMaxSeconds", o.BackoffMaxSeconds, Math.Max(1, o.BackoffBaseSeconds), 7 * 86400),
        o.JitterFraction is >= 0 and < 1 ? null : string.Create(CultureInfo.InvariantCulture, $"Polling:JitterFraction = {o.JitterFraction}: must be in [0, 1)."),
        Range("Polling:PauseAfterDays", o.PauseAfterDays, 1, 365),
        Range("Polling:MaxRetryAfterSeconds", o.MaxRetryAfterSeconds, 1, 7 * 86400),
        Range("Polling:MaxConcurrentFeeds", o.MaxConcurrentFeeds, 1, 64),
        Range("Polling:MaxConcurrentPerHost", o.MaxConcurrentPerHost, 1, 16));

    public ValidateOptionsResult Validate(string? name, FinNewsOptions o) => Check(
        Required("FinNews:DataDirectory", o.DataDirectory),
        Required("FinNews:FeedsFile", o.FeedsFile),
        Required("FinNews:WatchlistFile", o.WatchlistFile));

    public ValidateOptionsResult Validate(string? name, WebOptions o)
    {
        var errors = new List<string?> { Required("Web:Urls", o.Urls) };
        if (!string.IsNullOrEmpty(o.PublicBaseUrl)
            && (!Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out var publicUrl) || (publicUrl.Scheme != "http" && publicUrl.Scheme != "https")
                || !string.IsNullOrEmpty(publicUrl.Query) || !string.IsNullOrEmpty(publicUrl.Fragment)))
        {
            errors.Add($"Web:PublicBaseUrl = '{o.PublicBaseUrl}': not an absolute http(s) URL without query or fragment (e.g. 'https://news.example.com').");
        }

        foreach (var url in (o.Urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
            {
                errors.Add($"Web:Urls = '{url}': not an http(s) URL.");
            }
        }

        return Check([.. errors]);
    }

    public ValidateOptionsResult Validate(string? name, SchedulerOptions o) => Check(
        Range("Scheduler:IndexIntervalSeconds", o.IndexIntervalSeconds, 1, 86400),
        Range("Scheduler:FeedListSyncSeconds", o.FeedListSyncSeconds, 1, 3600),
        o.Store is "memory" or "postgres" ? null : $"Scheduler:Store = '{o.Store}': use 'memory' or 'postgres'.",
        Range("Scheduler:CheckinIntervalSeconds", o.CheckinIntervalSeconds, 1, 300),
        Range("Scheduler:CheckinMisfireThresholdSeconds", o.CheckinMisfireThresholdSeconds, 1, 600),
        Range("Scheduler:MisfireThresholdSeconds", o.MisfireThresholdSeconds, 1, 3600),
        Range("Scheduler:MisfireScanSeconds", o.MisfireScanSeconds, 1, 3600),
        Range("Scheduler:MaxConcurrentJobs", o.MaxConcurrentJobs, 1, 64),
        o.InstanceId.Length <= 100 ? null : $"Scheduler:InstanceId = '{o.InstanceId}': at most 100 characters.",
        Range("Scheduler:RetentionDays", o.RetentionDays, 1, 36500),
        Cron("Scheduler:MarketDataSchedule", o.MarketDataSchedule));

    public ValidateOptionsResult Validate(string? name, SearchOptions o) => Check(
        [o.Backend is "sqlite" or "elasticsearch" ? null : $"Search:Backend = '{o.Backend}': use 'sqlite' or 'elasticsearch'.",
         o.Embedder is "hashing" or "arctic" or "glove" or "openai" ? null : $"Search:Embedder = '{o.Embedder}': unknown embedder (available: hashing, arctic, glove, openai).",
         Range("Search:Dimensions", o.Dimensions, 16, 4096),
         FinNews.Core.Search.FusionSettings.TryParseFusion(o.Fusion, out _) ? null : $"Search:Fusion = '{o.Fusion}': use 'convex' or 'rrf'.",
         .. o.FusionSettings().Problems("Search")]);

    public ValidateOptionsResult Validate(string? name, BriefingOptions o) => Check(
        Range("Briefing:LookbackHours", o.LookbackHours, 1, 24 * 31),
        Range("Briefing:TopStories", o.TopStories, 1, 50),
        Range("Briefing:PerTicker", o.PerTicker, 0, 20),
        o.ClusterThreshold is > 0 and <= 1 ? null : string.Create(CultureInfo.InvariantCulture, $"Briefing:ClusterThreshold = {o.ClusterThreshold}: must be in (0, 1]."),
        Range("Briefing:MarketCloseHourUtc", o.MarketCloseHourUtc, 0, 23),
        Cron("Briefing:Schedule", o.Schedule));

    public ValidateOptionsResult Validate(string? name, FetchOptions o) => Check(
        Range("Ingest:TimeoutSeconds", o.TimeoutSeconds, 1, 600),
        o.MaxBodyBytes is >= 1024 and <= FinNews.Core.Feeds.FeedParser.MaxDocumentBytes ? null : $"Ingest:MaxBodyBytes = {o.MaxBodyBytes}: must be between 1024 and {FinNews.Core.Feeds.FeedParser.MaxDocumentBytes} (the largest document the parser reads).",
        Range("Ingest:MaxRedirects", o.MaxRedirects, 0, 20),
        Required("Ingest:UserAgent", o.UserAgent));

    public ValidateOptionsResult Validate(string? name, MarketOptions o) => Check(
        [.. o.Files.Select((f, i) => string.IsNullOrWhiteSpace(f.Path) ? $"Market:Files:{i}:Path = '': a path is required." : null),
         .. o.Files.Select((f, i) => string.IsNullOrWhiteSpace(f.Source) ? $"Market:Files:{i}:Source = '': a provider name is required." : null),
         .. o.Providers.Select((p, i) => p.Type.ToLowerInvariant() is "stooq" or "alphavantage" ? null : $"Market:Providers:{i}:Type = '{p.Type}': use 'stooq' or 'alphavantage'."),
         .. o.Providers.Select((p, i) => p.BaseUrl is null || Uri.TryCreate(p.BaseUrl, UriKind.Absolute, out _) ? null : $"Market:Providers:{i}:BaseUrl = '{p.BaseUrl}': not an absolute URL.")]);

    private static string? Required(string key, string? value) => string.IsNullOrWhiteSpace(value) ? $"{key} = '{value}': a value is required." : null;

    private static string? Range(string key, int value, int min, int max) =>
        value >= min && value <= max ? null : string.Create(CultureInfo.InvariantCulture, $"{key} = {value}: must be between {min} and {max}.");

    private static string? Cron(string key, string? value) =>
        Quartz.CronExpression.TryParse(value ?? "", out _) ? null : $"{key} = '{value}': not a valid Quartz cron expression (e.g. '0 0 6 * * ?').";

    private static ValidateOptionsResult Check(params string?[] errors)
    {
        var failures = errors.Where(e => e is not null).Cast<string>().ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
