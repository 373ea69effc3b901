using System.Diagnostics.Metrics;

namespace FinNews.Core.Telemetry;

/// <summary>
/// FinNews's own instruments on the meter <c>FinNews</c>: what an operator watches besides the runtime and HTTP
/// figures (exported over OTLP when configured; read in-process with a <see cref="MeterListener"/> in tests).
/// </summary>
/// <remarks>
/// Items per minute is the rate of <c>finnews.ingest.items</c>; ingest lag is how old the newest item of a fetch was
/// when it was stored. Instruments are static: a <see cref="Meter"/> is process-wide, and every host of the process
/// (web, worker, tool) reports into the same one.
/// </remarks>
public static class FinNewsMetrics
{
    /// <summary>The meter name to subscribe to (OpenTelemetry <c>AddMeter</c>, <see cref="MeterListener"/>).</summary>
    public const string MeterName = "FinNews";

    private static readonly Meter Meter = new(MeterName, "1.0");

    private static readonly Counter<long> IngestItems = Meter.CreateCounter<long>("finnews.ingest.items", "{item}",
        "New articles stored by feed polls; its rate is items per minute.");

    private static readonly Histogram<double> IngestLag = Meter.CreateHistogram<double>("finnews.ingest.lag", "s",
        "Seconds from the publication of the newest item of a fetch to its storage.");

    private static readonly Counter<long> FeedPolls = Meter.CreateCounter<long>("finnews.ingest.polls", "{poll}",
        "Feed fetches, by outcome (stored, not_modified, failed).");

    private static readonly Histogram<double> BriefingDuration = Meter.CreateHistogram<double>("finnews.briefing.duration", "s",
        "Seconds to write and publish a briefing (retrieval, writer, validation, rendering).");

    private static readonly Counter<long> ValidatorDrops = Meter.CreateCounter<long>("finnews.validator.dropped", "{statement}",
        "Statements the citation validator dropped from briefings.");

    private static readonly Histogram<double> ApiDuration = Meter.CreateHistogram<double>("finnews.api.duration", "s",
        "Seconds to answer an API request, by route and status code.");

    private static readonly Histogram<double> JobDuration = Meter.CreateHistogram<double>("finnews.job.duration", "s",
        "Seconds a scheduled job ran, by job group and outcome.");

    /// <summary>A fetch stored <paramref name="inserted"/> new items; <paramref name="newestPublished"/> is the newest item's publication time.</summary>
    public static void Ingested(string feedId, int inserted, DateTimeOffset? newestPublished, DateTimeOffset storedAt)
    {
        var feed = new KeyValuePair<string, object?>("feed", feedId);
        FeedPolls.Add(1, feed, new("outcome", "stored"));
        if (inserted <= 0)
        {
            return;
        }

        IngestItems.Add(inserted, feed);
        if (newestPublished is { } published && published <= storedAt)
        {
            IngestLag.Record((storedAt - published).TotalSeconds, feed);
        }
    }

    /// <summary>A fetch that stored nothing: <c>not_modified</c> or <c>failed</c>.</summary>
    public static void Polled(string feedId, string outcome) =>
        FeedPolls.Add(1, new KeyValuePair<string, object?>("feed", feedId), new("outcome", outcome));

    /// <summary>A briefing was written in <paramref name="elapsed"/>, with <paramref name="dropped"/> statements dropped by the validator.</summary>
    public static void BriefingWritten(TimeSpan elapsed, string writer, int dropped)
    {
        BriefingDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("writer", writer));
        if (dropped > 0)
        {
            ValidatorDrops.Add(dropped, new KeyValuePair<string, object?>("writer", writer));
        }
    }

    /// <summary>An API request was answered.</summary>
    public static void ApiRequest(string route, string method, int status, TimeSpan elapsed) =>
        ApiDuration.Record(elapsed.TotalSeconds, new("route", route), new("method", method), new("status", status));

    /// <summary>A scheduled job ended (outcome: succeeded, failed, cancelled).</summary>
    public static void JobRan(string jobGroup, string outcome, TimeSpan elapsed) =>
        JobDuration.Record(elapsed.TotalSeconds, new("job_group", jobGroup), new("outcome", outcome));
}
