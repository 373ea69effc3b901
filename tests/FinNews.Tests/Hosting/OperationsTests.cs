using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using FinNews.Core;
using FinNews.Core.Telemetry;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FinNews.Tests.Hosting;

/// <summary>Readiness, request ids in the logs, FinNews's own metrics, and their export over OTLP, on the real web host.</summary>
public class OperationsTests
{
    [Fact]
    public async Task Ready_reports_each_check_as_json_and_is_200_when_storage_and_index_answer_and_feeds_are_fresh()
    {
        using var env = TestEnvironment.Create();
        // The malformed sample never succeeds, so it would (rightly) be stale from the start.
        env.EditFeeds(feeds => feeds.Where(f => f!["id"]!.GetValue<string>() != "broken-wire").ToList());
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        await app.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(Address(app)) };

        var response = await http.GetAsync("/ready");
        var body = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        using var json = JsonDocument.Parse(body);
        var checks = json.RootElement.GetProperty("checks");
        checks.EnumerateObject().Select(c => c.Name).Should().BeEquivalentTo(["storage", "search-index", "model-endpoint", "feed-freshness"]);
        checks.GetProperty("storage").GetProperty("status").GetString().Should().Be("healthy");
        checks.GetProperty("search-index").GetProperty("data").GetProperty("chunks").GetInt64().Should().BeGreaterThan(0);
        checks.GetProperty("model-endpoint").GetProperty("description").GetString().Should().Contain("extractive writer");
        checks.GetProperty("feed-freshness").GetProperty("status").GetString().Should().Be("healthy", "every sample feed was just fetched");
        json.RootElement.GetProperty("status").GetString().Should().Be("healthy");

        // A day later with no fetch in between, the feeds are stale: still ready (200), but degraded and named.
        env.Clock.Advance(TimeSpan.FromDays(1));
        using var later = JsonDocument.Parse(await http.GetStringAsync("/ready"));
        later.RootElement.GetProperty("status").GetString().Should().Be("degraded");
        later.RootElement.GetProperty("checks").GetProperty("feed-freshness").GetProperty("data").GetProperty("stale").EnumerateArray()
            .Select(e => e.GetString()).Should().Contain("meridian-wire");
    }

    [Fact]
    public async Task Ready_is_503_naming_the_search_index_when_it_does_not_answer_while_health_stays_200()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Search:Backend", "elasticsearch");
        env.SetSetting("Elasticsearch:Url", "http://127.0.0.1:9");
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(Address(app)) };

        var ready = await http.GetAsync("/ready");
        var health = await http.GetAsync("/health");

        ready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        using var json = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("status").GetString().Should().Be("unhealthy");
        var index = json.RootElement.GetProperty("checks").GetProperty("search-index");
        index.GetProperty("status").GetString().Should().Be("unhealthy");
        index.GetProperty("description").GetString().Should().StartWith("elasticsearch index");
        json.RootElement.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString().Should().Be("healthy");
        health.StatusCode.Should().Be(HttpStatusCode.OK, "liveness does not depend on the search index");
    }

    [Fact]
    public async Task Each_request_gets_an_id_that_its_log_lines_carry()
    {
        using var env = TestEnvironment.Create();
        await using (var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false))
        {
            await app.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri(Address(app)) };
            var response = await http.GetAsync("/api/v1/briefings/latest");
            var requestId = response.Headers.GetValues("X-Request-Id").Single();
            requestId.Should().NotBeNullOrWhiteSpace();
            await app.StopAsync();

            var log = ReadLogs(env);
            log.Should().Contain(l => l.Contains("HTTP GET /api/v1/briefings/latest responded 404", StringComparison.Ordinal)
                && l.Contains($"\"RequestId\":\"{requestId}\"", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_FinNews_meter_records_ingest_items_and_lag_briefing_latency_and_api_latency()
    {
        var seen = new ConcurrentBag<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == FinNewsMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => seen.Add((i.Name, v, Tags(tags))));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => seen.Add((i.Name, v, Tags(tags))));
        listener.Start();

        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        await pipeline.BriefAsync(null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(Address(app)) };
        (await http.GetAsync("/api/v1/briefings/latest")).StatusCode.Should().Be(HttpStatusCode.OK);

        seen.Where(m => m.Name == "finnews.ingest.items" && Equals(m.Tags["feed"], "meridian-wire")).Sum(m => m.Value).Should().BeGreaterThan(0);
        seen.Should().Contain(m => m.Name == "finnews.ingest.lag" && Equals(m.Tags["feed"], "meridian-wire") && m.Value >= 0);
        seen.Should().Contain(m => m.Name == "finnews.ingest.polls" && Equals(m.Tags["outcome"], "failed") && Equals(m.Tags["feed"], "broken-wire"),
            "the malformed sample feed fails");
        seen.Should().Contain(m => m.Name == "finnews.briefing.duration" && Equals(m.Tags["writer"], "extractive"));
        seen.Should().Contain(m => m.Name == "finnews.api.duration" && Equals(m.Tags["route"], "/api/v1/briefings/latest") && Equals(m.Tags["status"], 200));
    }

    [Fact]
    public async Task With_an_OTLP_endpoint_configured_metrics_and_traces_are_exported_to_it()
    {
        await using var collector = await OtlpCollector.StartAsync();
        using var env = TestEnvironment.Create();
        env.SetSetting("Telemetry:OtlpEndpoint", collector.Url);
        env.SetSetting("Telemetry:OtlpProtocol", "http/protobuf");
        await using (var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false))
        {
            await app.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri(Address(app)) };
            await http.GetAsync("/api/v1/briefings/latest");
            await app.StopAsync();
        } // disposing the host flushes both exporters

        collector.Received.Keys.Should().Contain(["/v1/metrics", "/v1/traces"]);
        var metrics = Encoding.UTF8.GetString(collector.Received["/v1/metrics"].SelectMany(b => b).ToArray());
        metrics.Should().Contain("finnews.api.duration").And.Contain("/api/v1/briefings/latest");
        var traces = Encoding.UTF8.GetString(collector.Received["/v1/traces"].SelectMany(b => b).ToArray());
        traces.Should().Contain("/api/v1/briefings/latest");
    }

    private static Dictionary<string, object?> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var t in tags)
        {
            d[t.Key] = t.Value;
        }

        return d;
    }

    private static List<string> ReadLogs(TestEnvironment env)
    {
        var lines = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(env.DataDirectory, "logs"), "*.log"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            lines.AddRange(reader.ReadToEnd().Split('\n'));
        }

        return lines;
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>An OTLP/HTTP receiver on loopback: keeps every request body by path.</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private OtlpCollector(WebApplication app) => _app = app;

        public ConcurrentDictionary<string, ConcurrentQueue<byte[]>> Received { get; } = new(StringComparer.Ordinal);

        public string Url => Address(_app);

        public static async Task<OtlpCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var collector = new OtlpCollector(app);
            app.MapPost("/v1/{signal}", async (HttpContext http) =>
            {
                using var body = new MemoryStream();
                await http.Request.Body.CopyToAsync(body);
                collector.Received.GetOrAdd(http.Request.Path.Value!, _ => new()).Enqueue(body.ToArray());
                return Results.Bytes([], "application/x-protobuf");
            });
            await app.StartAsync();
            return collector;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
