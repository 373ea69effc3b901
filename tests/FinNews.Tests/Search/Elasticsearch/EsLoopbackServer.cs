using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using FinNews.Tests.Support;
using Microsoft.Extensions.Logging;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>One request as the server saw it.</summary>
internal sealed record RecordedRequest(string Method, string Path, string Query, string? ContentType, string? Authorization, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);

    /// <summary>NDJSON lines of a bulk body.</summary>
    public IReadOnlyList<string> Lines => BodyText.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"{Method} {Path}{Query}";
}

/// <summary>A reply to send.</summary>
internal sealed record Reply(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null)
{
    public static Reply Json(string body, int status = 200) => new(status, body);

    public static Reply Error(int status, string type, string reason) =>
        new(status, $$"""{"error":{"root_cause":[{"type":"{{type}}","reason":"{{reason}}"}],"type":"{{type}}","reason":"{{reason}}"},"status":{{status}}}""");
}

/// <summary>
/// A real HTTP peer on 127.0.0.1 (Kestrel): records every request and answers from a responder, so the client runs
/// its real HttpClient stack over a socket.
/// </summary>
internal sealed class EsLoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<(RecordedRequest Request, Reply Reply)> _exchanges = [];
    private readonly Lock _lock = new();

    private EsLoopbackServer(WebApplication app) => _app = app;

    public string Url { get; private set; } = string.Empty;

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Every request with the reply it got.</summary>
    public IReadOnlyList<(RecordedRequest Request, Reply Reply)> Exchanges
    {
        get
        {
            lock (_lock)
            {
                return [.. _exchanges];
            }
        }
    }

    public static async Task<EsLoopbackServer> StartAsync(Func<RecordedRequest, Reply> responder)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new EsLoopbackServer(app);
        app.Run(async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var request = new RecordedRequest(
                context.Request.Method,
                context.Request.Path.Value ?? "/",
                context.Request.QueryString.Value ?? string.Empty,
                context.Request.ContentType,
                context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null,
                buffer.ToArray());
            lock (server._lock)
            {
                server._requests.Add(request);
            }

            Reply reply;
            try
            {
                reply = responder(request);
            }
            catch (Exception e)
            {
                reply = Reply.Error(500, "test_responder_exception", e.Message.Replace('"', '\''));
            }

            lock (server._lock)
            {
                server._exchanges.Add((request, reply));
            }

            context.Response.StatusCode = reply.Status;
            context.Response.ContentType = "application/json";
            foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
            {
                context.Response.Headers[name] = value;
            }

            await context.Response.WriteAsync(reply.Body);
        });
        await app.StartAsync();
        server.Url = app.Urls.First();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// A scripted Elasticsearch for the loopback server: answers every API the client uses with the documented response
/// shapes, keeps the bulk documents it was sent, and lets a test override any reply.
/// </summary>
internal sealed class FakeCluster
{
    private readonly Lock _lock = new();

    public string Version { get; set; } = "8.17.0";

    public string Health { get; set; } = "green";

    /// <summary>Existing template mappings (null: none), as the GET _index_template response carries them.</summary>
    public JsonObject? TemplateMappings { get; set; }

    /// <summary>Existing monthly indices and their mappings.</summary>
    public Dictionary<string, JsonObject> Indices { get; } = new(StringComparer.Ordinal);

    /// <summary>Documents received by _bulk, by id.</summary>
    public Dictionary<string, JsonObject> Documents { get; } = new(StringComparer.Ordinal);

    /// <summary>Chunk ids to return from any search, best first.</summary>
    public List<string> SearchHits { get; } = [];

    /// <summary>Per search request kind ("knn", "query", "retriever"), hits to return instead of <see cref="SearchHits"/>.</summary>
    public Dictionary<string, List<string>> HitsByKind { get; } = new(StringComparer.Ordinal);

    /// <summary>Decides a bulk item's status from its id and attempt (1-based); default 201.</summary>
    public Func<string, int, int> BulkItemStatus { get; set; } = (_, _) => 201;

    /// <summary>Runs before the scripted replies; return a reply to override.</summary>
    public Func<RecordedRequest, Reply?>? Override { get; set; }

    private readonly Dictionary<string, int> _bulkAttempts = new(StringComparer.Ordinal);

    public int BulkAttempts(string id)
    {
        lock (_lock)
        {
            return _bulkAttempts.GetValueOrDefault(id);
        }
    }

    public Reply Respond(RecordedRequest request)
    {
        if (Override?.Invoke(request) is { } overridden)
        {
            return overridden;
        }

        var path = request.Path;
        lock (_lock)
        {
            return (request.Method, path) switch
            {
                ("GET", "/") => Reply.Json($$"""
                    {"name":"node-1","cluster_name":"test","cluster_uuid":"abc","version":{"number":"{{Version}}","build_flavor":"default","build_type":"docker","lucene_version":"9.12.0","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}
                    """),
                ("GET", "/_cluster/health") => Reply.Json($$"""
                    {"cluster_name":"test","status":"{{Health}}","timed_out":false,"number_of_nodes":3,"number_of_data_nodes":3,"active_primary_shards":4,"active_shards":8,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":{{(Health == "red" ? 2 : 0)}},"unassigned_primary_shards":{{(Health == "red" ? 1 : 0)}},"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":{{(Health == "red" ? "80.0" : "100.0")}}}
                    """),
                ("GET", _) when path.StartsWith("/_index_template/", StringComparison.Ordinal) => TemplateMappings is null
                    ? Reply.Error(404, "resource_not_found_exception", "index template matching [x] not found")
                    : Reply.Json(new JsonObject
                    {
                        ["index_templates"] = new JsonArray(new JsonObject
                        {
                            ["name"] = path["/_index_template/".Length..],
                            ["index_template"] = new JsonObject
                            {
                                ["index_patterns"] = new JsonArray(path["/_index_template/".Length..] + "-*"),
                                ["template"] = new JsonObject { ["mappings"] = TemplateMappings.DeepClone() },
                                ["composed_of"] = new JsonArray(),
                            },
                        }),
                    }.ToJsonString()),
                ("PUT", _) when path.StartsWith("/_index_template/", StringComparison.Ordinal) => Reply.Json("""{"acknowledged":true}"""),
                ("GET", _) when path.EndsWith("/_mapping", StringComparison.Ordinal) => Reply.Json(Mappings()),
                ("PUT", _) when !path[1..].Contains('/', StringComparison.Ordinal) => CreateIndex(path[1..], request),
                ("DELETE", _) => DeleteIndices(path[1..]),
                ("POST", _) when path.EndsWith("/_refresh", StringComparison.Ordinal) => Reply.Json("""{"_shards":{"total":2,"successful":2,"failed":0}}"""),
                ("POST", _) when path.EndsWith("/_delete_by_query", StringComparison.Ordinal) => DeleteByQuery(request),
                ("POST", "/_bulk") => Bulk(request),
                ("POST", _) when path.EndsWith("/_count", StringComparison.Ordinal) => Reply.Json(
                    $$$"""{"count":{{{Documents.Count}}},"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}"""),
                ("POST", _) when path.EndsWith("/_search", StringComparison.Ordinal) => Search(request),
                _ => Reply.Error(400, "unexpected_request", $"the fake cluster does not know {request.Method} {path}"),
            };
        }
    }

    private string Mappings()
    {
        var result = new JsonObject();
        foreach (var (name, mappings) in Indices)
        {
            result[name] = new JsonObject { ["mappings"] = mappings.DeepClone() };
        }

        return result.ToJsonString();
    }

    private Reply CreateIndex(string index, RecordedRequest request)
    {
        if (Indices.ContainsKey(index))
        {
            return Reply.Error(400, "resource_already_exists_exception", $"index [{index}/uuid] already exists");
        }

        Indices[index] = request.Json!["mappings"]!.AsObject().DeepClone().AsObject();
        return Reply.Json($$"""{"acknowledged":true,"shards_acknowledged":true,"index":"{{index}}"}""");
    }

    private Reply DeleteIndices(string names)
    {
        foreach (var name in names.Split(','))
        {
            Indices.Remove(name);
        }

        Documents.Clear();
        return Reply.Json("""{"acknowledged":true}""");
    }

    private Reply DeleteByQuery(RecordedRequest request)
    {
        var ids = request.Json!["query"]!["bool"]!["filter"]![0]!["terms"]!["article_id"]!.AsArray().Select(n => n!.GetValue<string>()).ToHashSet();
        var doomed = Documents.Where(d => ids.Contains(d.Value["article_id"]!.GetValue<string>())).Select(d => d.Key).ToList();
        doomed.ForEach(id => Documents.Remove(id));
        return Reply.Json($$"""
            {"took":3,"timed_out":false,"total":{{doomed.Count}},"deleted":{{doomed.Count}},"batches":1,"version_conflicts":0,"noops":0,"retries":{"bulk":0,"search":0},"throttled_millis":0,"requests_per_second":-1.0,"throttled_until_millis":0,"failures":[]}
            """);
    }

    private Reply Bulk(RecordedRequest request)
    {
        var lines = request.Lines;
        var items = new JsonArray();
        var errors = false;
        for (var i = 0; i + 1 < lines.Count; i += 2)
        {
            var action = JsonNode.Parse(lines[i])!["index"]!;
            var id = action["_id"]!.GetValue<string>();
            var index = action["_index"]!.GetValue<string>();
            var attempt = _bulkAttempts[id] = _bulkAttempts.GetValueOrDefault(id) + 1;
            var status = BulkItemStatus(id, attempt);
            var item = new JsonObject { ["_index"] = index, ["_id"] = id, ["status"] = status };
            if (status is >= 200 and < 300)
            {
                Documents[id] = JsonNode.Parse(lines[i + 1])!.AsObject();
                item["_version"] = 1;
                item["result"] = "created";
                item["_shards"] = new JsonObject { ["total"] = 2, ["successful"] = 1, ["failed"] = 0 };
                item["_seq_no"] = 0;
                item["_primary_term"] = 1;
            }
            else
            {
                errors = true;
                var (type, reason) = status switch
                {
                    429 => ("es_rejected_execution_exception", "rejected execution of coordinating operation"),
                    409 => ("version_conflict_engine_exception", $"[{id}]: version conflict, document already exists"),
                    _ => ("mapper_parsing_exception", "failed to parse field [published_at] of type [date]"),
                };
                item["error"] = new JsonObject { ["type"] = type, ["reason"] = reason, ["index_uuid"] = "aAsFqTI0Tc2W0LCWgPNrOA", ["shard"] = "0", ["index"] = index };
            }

            items.Add(new JsonObject { ["index"] = item });
        }

        return Reply.Json(new JsonObject { ["took"] = 30, ["errors"] = errors, ["items"] = items }.ToJsonString());
    }

    private Reply Search(RecordedRequest request)
    {
        var body = request.Json!.AsObject();
        var kind = body.ContainsKey("retriever") ? "retriever" : body.ContainsKey("knn") ? "knn" : "query";
        var ids = HitsByKind.TryGetValue(kind, out var specific) ? specific : SearchHits;
        var hits = new JsonArray();
        var score = 10.0;
        foreach (var id in ids)
        {
            var article = id[..id.IndexOf('#', StringComparison.Ordinal)];
            var text = Documents.TryGetValue(id, out var doc) ? doc["text"]!.GetValue<string>() : $"text of {id}";
            hits.Add(new JsonObject
            {
                ["_index"] = "finnews-chunks-2025.01",
                ["_id"] = id,
                ["_score"] = score--,
                ["_source"] = new JsonObject { ["article_id"] = article, ["chunk_id"] = id, ["text"] = text },
            });
        }

        return Reply.Json(new JsonObject
        {
            ["took"] = 5,
            ["timed_out"] = false,
            ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["skipped"] = 0, ["failed"] = 0 },
            ["hits"] = new JsonObject { ["max_score"] = 10.0, ["hits"] = hits },
        }.ToJsonString());
    }
}

/// <summary>Collects log lines so tests can check what was (and was not) logged.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly List<string> _lines = [];
    private readonly Lock _lock = new();

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lock)
        {
            _lines.Add($"{logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}

/// <summary>
/// A clock fixed at <see cref="Some.Day"/> whose timers fire at once but remember what they were asked to wait, so
/// backoff is observable and instant.
/// </summary>
internal sealed class RecordingDelayTimeProvider : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => Some.Day;

    private readonly List<TimeSpan> _delays = [];
    private readonly Lock _lock = new();

    public IReadOnlyList<TimeSpan> Delays
    {
        get
        {
            lock (_lock)
            {
                return [.. _delays];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_lock)
        {
            _delays.Add(dueTime);
        }

        return base.CreateTimer(callback, state, TimeSpan.Zero, period);
    }
}

internal static class JsonText
{
    public static JsonElement Element(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
