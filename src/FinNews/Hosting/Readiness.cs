using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Dapper;
using FinNews.Core.Feeds;
using FinNews.Core.Models;
using FinNews.Core.Search;
using FinNews.Core.Storage.Sqlite;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FinNews.Hosting;

/// <summary>
/// Readiness (<c>/ready</c>: storage, the scheduler's database when clustered, the search index, the model endpoint and
/// feed freshness), each check in the JSON answer. Liveness is <c>/health</c> (Api/BriefingsApi.cs: the process answers
/// from its store).
/// </summary>
/// <remarks>
/// Unhealthy storage, scheduler store or search index make <c>/ready</c> answer 503: this node cannot serve. A model
/// endpoint that does not answer, or stale feeds, are "degraded" (200): briefings fall back to the extractive writer,
/// and old news is still news to serve, but an operator should look.
/// </remarks>
public static class Readiness
{
    public const string LivePath = "/health";
    public const string ReadyPath = "/ready";
    private const string ReadyTag = "ready";

    /// <summary>The checks and the client the model check uses.</summary>
    public static void AddFinNewsHealth(this IHostApplicationBuilder builder)
    {
        var checks = builder.Services.AddHealthChecks()
            .AddCheck<StorageCheck>("storage", tags: [ReadyTag])
            .AddCheck<SearchIndexCheck>("search-index", tags: [ReadyTag])
            .AddCheck<ModelEndpointCheck>("model-endpoint", tags: [ReadyTag])
            .AddCheck<FeedFreshnessCheck>("feed-freshness", tags: [ReadyTag]);
        if (builder.Configuration["Scheduler:Store"] == "postgres")
        {
            checks.AddCheck<SchedulerStoreCheck>("scheduler-store", tags: [ReadyTag]);
        }

        // Model endpoints are often on loopback or a private network (Ollama, vLLM): not the SSRF-guarded feed client.
        builder.Services.AddHttpClient(ModelEndpointCheck.ClientName, c => c.Timeout = TimeSpan.FromSeconds(5));
    }

    /// <summary>Maps <c>/ready</c> (every check; 503 when one is unhealthy).</summary>
    public static void MapFinNewsReadiness(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(ReadyTag),
            ResponseWriter = WriteJson,
            AllowCachingResponses = false,
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
    }

    private static async Task WriteJson(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = Name(report.Status),
            durationMs = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = Name(e.Value.Status),
                description = e.Value.Description,
                durationMs = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
                data = e.Value.Data.Count == 0 ? null : e.Value.Data,
            }),
        };
        await JsonSerializer.SerializeAsync(http.Response.Body, body, JsonOptions, http.RequestAborted);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };

    /// <summary>The system of record answers a query.</summary>
    private sealed class StorageCheck(SqliteStore store) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var c = new Microsoft.Data.Sqlite.SqliteConnection(store.ConnectionString);
                var feeds = await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM feeds", cancellationToken: cancellationToken));
                return HealthCheckResult.Healthy("SQLite store answers", new Dictionary<string, object> { ["feeds"] = feeds });
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex)
            {
                return HealthCheckResult.Unhealthy($"SQLite store does not answer: {ex.Message}");
            }
        }
    }

    /// <summary>Quartz's clustered job store (PostgreSQL) answers; the nodes that checked in recently are listed.</summary>
    private sealed class SchedulerStoreCheck : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var connectionString = Environment.GetEnvironmentVariable(StorageOptions.PostgresConnectionVariable);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                return HealthCheckResult.Unhealthy("Scheduler:Store = 'postgres' but FINNEWS_POSTGRES_CONNECTION is not set");
            }

            try
            {
                await using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5 }.ConnectionString);
                var nodes = (await c.QueryAsync<string>(new CommandDefinition(
                    "SELECT instance_name FROM qrtz_scheduler_state ORDER BY instance_name", cancellationToken: cancellationToken))).ToList();
                return HealthCheckResult.Healthy($"PostgreSQL at {Jobs.PostgresSchema.Describe(connectionString)} answers",
                    new Dictionary<string, object> { ["nodes"] = nodes });
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy($"PostgreSQL at {Jobs.PostgresSchema.Describe(connectionString)} does not answer: {ex.Message}");
            }
        }
    }

    /// <summary>The search index answers a count.</summary>
    private sealed class SearchIndexCheck(ISearchIndex index, IOptions<SearchOptions> options) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                var chunks = await index.CountAsync(timeout.Token);
                return HealthCheckResult.Healthy($"{options.Value.Backend} index answers",
                    new Dictionary<string, object> { ["backend"] = options.Value.Backend, ["chunks"] = chunks });
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"{options.Value.Backend} index did not answer within 5 s");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy($"{options.Value.Backend} index does not answer: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// The briefing model's OpenAI-compatible endpoint lists its models (GET {endpoint}/models). Not configured is
    /// healthy (the offline default: the extractive writer); configured but not answering is degraded.
    /// </summary>
    private sealed class ModelEndpointCheck(ModelKernels kernels, ModelProfiles profiles, IHttpClientFactory clients) : IHealthCheck
    {
        public const string ClientName = "model-health";

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (kernels.Find(ModelProfiles.Briefing, out var reason) is null || profiles.Find(ModelProfiles.Briefing) is not { } profile)
            {
                return HealthCheckResult.Healthy($"no briefing model configured ({reason}): the extractive writer is used");
            }

            var url = new Uri(profile.Endpoint.AbsoluteUri.TrimEnd('/') + "/models");
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (profile.ApiKeyEnv is { } variable && Environment.GetEnvironmentVariable(variable) is { Length: > 0 } key)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }

            var where = new Dictionary<string, object> { ["endpoint"] = profile.Endpoint.GetLeftPart(UriPartial.Path), ["model"] = profile.Model };
            try
            {
                using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                return response.IsSuccessStatusCode
                    ? HealthCheckResult.Healthy("briefing model endpoint answers", where)
                    : HealthCheckResult.Degraded(string.Create(CultureInfo.InvariantCulture,
                        $"briefing model endpoint answered {(int)response.StatusCode}: briefings fall back to the extractive writer"), data: where);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Degraded($"briefing model endpoint does not answer ({ex.Message}): briefings fall back to the extractive writer", data: where);
            }
        }
    }

    /// <summary>
    /// Every enabled, unpaused feed has succeeded within three of its intervals (at least an hour). Stale feeds, or no
    /// feed fetched yet, are degraded and named.
    /// </summary>
    private sealed class FeedFreshnessCheck(FeedHealth feeds, TimeProvider time) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var now = time.GetUtcNow();
            var active = feeds.List().Where(f => f.Enabled && !f.Paused).ToList();
            var stale = active
                .Where(f => f.LastSuccessAt is not { } at || now - at > TimeSpan.FromMinutes(Math.Max(60, 3 * f.IntervalMinutes)))
                .Select(f => f.Id).ToList();
            var newest = active.Max(f => f.LastSuccessAt);
            var data = new Dictionary<string, object> { ["feeds"] = active.Count, ["stale"] = stale };
            if (newest is { } n)
            {
                data["newestSuccessAt"] = n.ToString("O", CultureInfo.InvariantCulture);
            }

            return Task.FromResult(stale.Count == 0
                ? HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"{active.Count} feeds fresh"), data)
                : HealthCheckResult.Degraded(string.Create(CultureInfo.InvariantCulture, $"{stale.Count} of {active.Count} feeds not fetched successfully lately"), data: data));
        }
    }
}
