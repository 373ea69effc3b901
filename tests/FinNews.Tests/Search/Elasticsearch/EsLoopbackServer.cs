using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>One request as the server saw it, its body already gunzipped.</summary>
internal sealed record RecordedRequest(
    string Method, string Path, string Query, string? ContentType, string? Accept, string? ContentEncoding, string? Authorization, byte[] Body, long WireBytes)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);

    /// <summary>NDJSON lines of a bulk or msearch body.</summary>
    public IReadOnlyList<string> Lines => BodyText.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"{Method} {Path}{Query}";
}

/// <summary>A reply to send.</summary>
internal sealed record Reply(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null)
{
    public static Reply Json(string body, int status = 200) => new(status, body);

    public static Reply Json(JsonNode body, int status = 200) => new(status, body.ToJsonString());

    public static Reply Error(int status, string type, string reason) =>
        new(status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["root_cause"] = new JsonArray(new JsonObject { ["type"] = type, ["reason"] = reason }),
                ["type"] = type,
                ["reason"] = reason,
            },
            ["status"] = status,
        }.ToJsonString());
}

/// <summary>
/// A real HTTP peer on 127.0.0.1 (Kestrel) that behaves on the wire as Elasticsearch 9 does for the official client:
/// it gunzips request bodies (the client compresses them), answers with <c>X-Elastic-Product: Elasticsearch</c> and
/// the vendored content type <c>application/vnd.elasticsearch+json;compatible-with=9</c> when the request asked for it
/// (plain <c>application/json</c> otherwise, e.g. for the client's _bulk), since the client rejects responses without
/// the header or with a content type that does not match its Accept; records every request; replies from a responder.
/// </summary>
internal sealed class EsLoopbackServer : IAsyncDisposable
{
    public const string VendoredJson = "application/vnd.elasticsearch+json;compatible-with=9";

    private readonly WebApplication _app;
    private readonly List<(RecordedRequest Request, Reply Reply)> _exchanges = [];
    private readonly Lock _lock = new();

    private EsLoopbackServer(WebApplication app) => _app = app;

    public string Url { get; private set; } = string.Empty;

    /// <summary>When false, replies lack the product header (to show the client refuses them).</summary>
    public bool SendProductHeader { get; set; } = true;

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _exchanges.Select(e => e.Request)];
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
            using var wire = new MemoryStream();
            await context.Request.Body.CopyToAsync(wire);
            var encoding = context.Request.Headers.ContentEncoding.ToString();
            var body = wire.ToArray();
            if (encoding.Contains("gzip", StringComparison.OrdinalIgnoreCase))
            {
                using var gunzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
                using var plain = new MemoryStream();
                await gunzip.CopyToAsync(plain);
                body = plain.ToArray();
            }

            var request = new RecordedRequest(
                context.Request.Method,
                context.Request.Path.Value ?? "/",
                context.Request.QueryString.Value ?? string.Empty,
                context.Request.ContentType,
                context.Request.Headers.Accept.ToString(),
                encoding.Length > 0 ? encoding : null,
                context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null,
                body,
                wire.Length);

            Reply reply;
            try
            {
                reply = responder(request);
            }
            catch (Exception e)
            {
                reply = Reply.Error(500, "test_responder_exception", e.Message);
            }

            lock (server._lock)
            {
                server._exchanges.Add((request, reply));
            }

            context.Response.StatusCode = reply.Status;
            // As Elasticsearch does: the vendored type when it was asked for (compatibility mode), else plain JSON.
            context.Response.ContentType = request.Accept?.Contains("vnd.elasticsearch", StringComparison.Ordinal) == true ? VendoredJson : "application/json";
            if (server.SendProductHeader)
            {
                context.Response.Headers["X-Elastic-Product"] = "Elasticsearch";
            }

            foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
            {
                context.Response.Headers[name] = value;
            }

            // HEAD replies carry no body.
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await context.Response.WriteAsync(reply.Body);
            }
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
/// A scripted Elasticsearch 9 for the loopback server: answers every API the index uses with the documented response
/// shapes, keeps the documents it is sent, and evaluates searches with <see cref="MiniEngine"/> (BM25, kNN with the
/// mapping's similarity, and the rrf and linear retrievers), so server-side and client-side fusion can be compared on
/// the same candidate lists. Any reply can be overridden.
/// </summary>
internal sealed class FakeCluster
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _bulkAttempts = new(StringComparer.Ordinal);

    public string Version { get; set; } = "9.1.0";

    public string BuildFlavor { get; set; } = "default";

    /// <summary>The licence type <c>GET _license</c> reports (basic, trial, enterprise...).</summary>
    public string Licence { get; set; } = "basic";

    public string Health { get; set; } = "green";

    /// <summary>Existing indices: mappings and the alias they belong to.</summary>
    public Dictionary<string, JsonObject> Indices { get; } = new(StringComparer.Ordinal);

    /// <summary>Documents by id, with the index each lives in.</summary>
    public Dictionary<string, (string Index, JsonObject Source)> Documents { get; } = new(StringComparer.Ordinal);

    /// <summary>The last index template written, by name.</summary>
    public Dictionary<string, JsonObject> Templates { get; } = new(StringComparer.Ordinal);

    /// <summary>Decides a bulk item's status from its id and attempt (1-based); default 201.</summary>
    public Func<string, int, int> BulkItemStatus { get; set; } = (_, _) => 201;

    /// <summary>Runs before the scripted replies; return a reply to override.</summary>
    public Func<RecordedRequest, Reply?>? Override { get; set; }

    public int BulkAttempts(string id)
    {
        lock (_lock)
        {
            return _bulkAttempts.GetValueOrDefault(id);
        }
    }

    /// <summary>Adds a document directly (test setup, as the YAML tests' <c>index</c> steps do).</summary>
    public void Put(string index, string id, JsonObject source)
    {
        lock (_lock)
        {
            Documents[id] = (index, source);
        }
    }

    public Reply Respond(RecordedRequest request)
    {
        if (Override?.Invoke(request) is { } overridden)
        {
            return overridden;
        }

        var path = request.Path;
        var segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        lock (_lock)
        {
            return (request.Method, segments) switch
            {
                ("GET", []) => Reply.Json($$"""
                    {"name":"node-1","cluster_name":"test","cluster_uuid":"abc","version":{"number":"{{Version}}","build_flavor":"{{BuildFlavor}}","build_type":"docker","build_hash":"0123456789abcdef","build_date":"2025-07-17T20:55:49.187Z","build_snapshot":false,"lucene_version":"10.2.2","minimum_wire_compatibility_version":"8.19.0","minimum_index_compatibility_version":"8.0.0"},"tagline":"You Know, for Search"}
                    """),
                ("GET", ["_license"]) => Reply.Json($$$"""
                    {"license":{"status":"active","uid":"5fe1f0bb-3f44-4bd6-8e0c-3c0d2d7d4e6f","type":"{{{Licence}}}","issue_date":"2025-01-01T00:00:00.000Z","issue_date_in_millis":1735689600000,"max_nodes":1000,"max_resource_units":null,"issued_to":"test","issuer":"elasticsearch","start_date_in_millis":-1}}
                    """),
                ("GET", ["_cluster", "health"]) => Reply.Json($$"""
                    {"cluster_name":"test","status":"{{Health}}","timed_out":false,"number_of_nodes":3,"number_of_data_nodes":3,"active_primary_shards":4,"active_shards":8,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":{{(Health == "red" ? 2 : 0)}},"unassigned_primary_shards":{{(Health == "red" ? 1 : 0)}},"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":{{(Health == "red" ? "80.0" : "100.0")}}}
                    """),
                ("PUT", ["_index_template", var name]) => PutTemplate(name, request),
                ("GET", [var pattern, "_mapping"]) => Mappings(pattern),
                ("PUT", [var index]) => CreateIndex(index, request),
                ("DELETE", [var names]) => DeleteIndices(names),
                ("POST", [_, "_refresh"]) => Reply.Json("""{"_shards":{"total":2,"successful":2,"failed":0}}"""),
                ("POST", [var target, "_delete_by_query"]) => DeleteByQuery(target, request),
                ("POST", ["_bulk"]) => Bulk(request),
                ("POST" or "GET", [var target, "_count"]) => Count(target),
                ("POST" or "GET", [var target, "_search"]) => Search(target, request.Json?.AsObject() ?? []),
                ("POST" or "GET", [var target, "_msearch"]) => MultiSearch(target, request),
                _ => Reply.Error(400, "unexpected_request", $"the fake cluster does not know {request.Method} {path}"),
            };
        }
    }

    private Reply PutTemplate(string name, RecordedRequest request)
    {
        Templates[name] = request.Json!.AsObject().DeepClone().AsObject();
        return Reply.Json("""{"acknowledged":true}""");
    }

    private HashSet<string> Resolve(string target)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in target.Split(','))
        {
            var prefix = part.TrimEnd('*');
            foreach (var (name, definition) in Indices)
            {
                var aliases = definition["aliases"]?.AsObject().Select(a => a.Key) ?? [];
                if (name == part || (part.EndsWith('*') && name.StartsWith(prefix, StringComparison.Ordinal)) || aliases.Contains(part))
                {
                    names.Add(name);
                }
            }
        }

        return names;
    }

    private Reply Mappings(string pattern)
    {
        var result = new JsonObject();
        foreach (var name in Resolve(pattern).Order(StringComparer.Ordinal))
        {
            result[name] = new JsonObject { ["mappings"] = Indices[name]["mappings"]!.DeepClone() };
        }

        return Reply.Json(result);
    }

    private Reply CreateIndex(string index, RecordedRequest request)
    {
        if (Indices.ContainsKey(index))
        {
            return Reply.Error(400, "resource_already_exists_exception", $"index [{index}/uuid] already exists");
        }

        Indices[index] = request.Json!.AsObject().DeepClone().AsObject();
        return Reply.Json($$"""{"acknowledged":true,"shards_acknowledged":true,"index":"{{index}}"}""");
    }

    private Reply DeleteIndices(string names)
    {
        foreach (var name in names.Split(','))
        {
            Indices.Remove(name);
            foreach (var id in Documents.Where(d => d.Value.Index == name).Select(d => d.Key).ToList())
            {
                Documents.Remove(id);
            }
        }

        return Reply.Json("""{"acknowledged":true}""");
    }

    /// <summary>An alias or pattern with no index behind it: what Elasticsearch answers.</summary>
    private Reply? Missing(string target) =>
        Resolve(target).Count > 0 ? null : Reply.Error(404, "index_not_found_exception", $"no such index [{target}]");

    private List<(string Id, JsonObject Source, JsonObject Mappings)> DocumentsOf(string target)
    {
        var indices = Resolve(target).ToHashSet(StringComparer.Ordinal);
        return Documents.Where(d => indices.Contains(d.Value.Index))
            .Select(d => (d.Key, d.Value.Source, Indices[d.Value.Index]["mappings"]!.AsObject()))
            .ToList();
    }

    private Reply DeleteByQuery(string target, RecordedRequest request)
    {
        if (Missing(target) is { } missing)
        {
            return missing;
        }

        var query = request.Json!["query"]!;
        var doomed = DocumentsOf(target).Where(d => MiniEngine.Matches(query, d.Source, DocumentsOf(target))).Select(d => d.Id).ToList();
        doomed.ForEach(id => Documents.Remove(id));
        return Reply.Json($$"""
            {"took":3,"timed_out":false,"total":{{doomed.Count}},"deleted":{{doomed.Count}},"batches":1,"version_conflicts":0,"noops":0,"retries":{"bulk":0,"search":0},"throttled_millis":0,"requests_per_second":-1.0,"throttled_until_millis":0,"failures":[]}
            """);
    }

    private Reply Count(string target) => Missing(target) ?? Reply.Json(
        $$$"""{"count":{{{DocumentsOf(target).Count}}},"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}""");

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
                Documents[id] = (index, JsonNode.Parse(lines[i + 1])!.AsObject());
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
                    _ => ("document_parsing_exception", "[1:53] failed to parse field [published_at] of type [date]"),
                };
                item["error"] = new JsonObject { ["type"] = type, ["reason"] = reason, ["index_uuid"] = "aAsFqTI0Tc2W0LCWgPNrOA", ["shard"] = "0", ["index"] = index };
            }

            items.Add(new JsonObject { ["index"] = item });
        }

        return Reply.Json(new JsonObject { ["errors"] = errors, ["took"] = 30, ["items"] = items });
    }

    private Reply Search(string target, JsonObject body) =>
        Missing(target) ?? Reply.Json(MiniEngine.Search(body, DocumentsOf(target), target));

    private Reply MultiSearch(string target, RecordedRequest request)
    {
        var lines = request.Lines;
        var responses = new JsonArray();
        for (var i = 0; i + 1 < lines.Count; i += 2)
        {
            var header = JsonNode.Parse(lines[i])!.AsObject();
            var index = header["index"]?.GetValue<string>() ?? target;
            if (Missing(index) is { } missing)
            {
                var error = JsonNode.Parse(missing.Body)!.AsObject();
                responses.Add(error);
                continue;
            }

            var result = MiniEngine.Search(JsonNode.Parse(lines[i + 1])!.AsObject(), DocumentsOf(index), index);
            result["status"] = 200;
            responses.Add(result);
        }

        return Reply.Json(new JsonObject { ["took"] = 4, ["responses"] = responses });
    }
}

/// <summary>
/// Just enough of Elasticsearch's search semantics for the queries FinNews and the shared REST tests send: bool,
/// multi_match, match, term(s), range and match_all queries (BM25 with k1 = 1.2, b = 0.75, lower-cased word tokens,
/// no stemming); kNN with the mapping's similarity (cosine: (1 + cos) / 2, l2_norm: 1 / (1 + d²)); and the standard,
/// knn, rrf (weighted, rank_constant, rank_window_size, filter, nested) and linear (minmax) retrievers.
/// </summary>
internal static class MiniEngine
{
    private const double K1 = 1.2;
    private const double B = 0.75;

    public static JsonObject Search(JsonObject body, List<(string Id, JsonObject Source, JsonObject Mappings)> docs, string index)
    {
        List<(string Id, double Score)> ranked;
        if (body["retriever"] is { } retriever)
        {
            ranked = Retrieve(retriever, docs, [], int.MaxValue);
        }
        else if (body["knn"] is { } knn)
        {
            ranked = Knn(knn is JsonArray array ? array[0]! : knn, docs, []);
        }
        else
        {
            ranked = Standard(body["query"] ?? new JsonObject { ["match_all"] = new JsonObject() }, docs, []);
        }

        var from = body["from"]?.GetValue<int>() ?? 0;
        var size = body["size"]?.GetValue<int>() ?? 10;
        var includes = body["_source"]?["includes"]?.AsArray().Select(n => n!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        var fields = body["fields"]?.AsArray().Select(n => n is JsonObject o ? o["field"]!.GetValue<string>() : n!.GetValue<string>()).ToList();
        var byId = docs.ToDictionary(d => d.Id, StringComparer.Ordinal);
        var hits = new JsonArray();
        foreach (var (id, score) in ranked.Skip(from).Take(size))
        {
            var source = byId[id].Source;
            var hit = new JsonObject { ["_index"] = index, ["_id"] = id, ["_score"] = score };
            hit["_source"] = includes is null
                ? source.DeepClone()
                : new JsonObject(source.Where(p => includes.Contains(p.Key)).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
            if (fields is not null)
            {
                hit["fields"] = new JsonObject(fields.Where(source.ContainsKey).Select(f => KeyValuePair.Create(f, (JsonNode?)new JsonArray(source[f]!.DeepClone()))));
            }

            hits.Add(hit);
        }

        var hitsObject = new JsonObject { ["max_score"] = ranked.Count > 0 ? ranked[0].Score : null, ["hits"] = hits };
        if (body["track_total_hits"] is not { } track || track.GetValueKind() != JsonValueKind.False)
        {
            hitsObject["total"] = new JsonObject { ["value"] = ranked.Count, ["relation"] = "eq" };
        }

        return new JsonObject
        {
            ["took"] = 2,
            ["timed_out"] = false,
            ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["skipped"] = 0, ["failed"] = 0 },
            ["hits"] = hitsObject,
        };
    }

    /// <summary>A retriever's ranking, at most <paramref name="window"/> long; <paramref name="filters"/> come from enclosing retrievers.</summary>
    private static List<(string Id, double Score)> Retrieve(JsonNode container, List<(string Id, JsonObject Source, JsonObject Mappings)> docs, List<JsonNode> filters, int window)
    {
        var (kind, spec) = container.AsObject().Single();
        var own = spec!["filter"] is { } f ? [.. filters, .. (f is JsonArray a ? a.Select(n => n!) : [f])] : filters;
        switch (kind)
        {
            case "standard":
                return [.. Standard(spec["query"] ?? new JsonObject { ["match_all"] = new JsonObject() }, docs, own).Take(window)];
            case "knn":
                return [.. Knn(spec, docs, own).Take(window)];
            case "rrf":
            {
                var k = spec["rank_constant"]?.GetValue<double>() ?? 60;
                var size = (int)(spec["rank_window_size"]?.GetValue<double>() ?? 10);
                var scores = new Dictionary<string, (double Score, int First)>(StringComparer.Ordinal);
                foreach (var entry in spec["retrievers"]!.AsArray())
                {
                    var (child, weight) = entry!["retriever"] is { } wrapped ? (wrapped, entry["weight"]?.GetValue<double>() ?? 1) : (entry, 1.0);
                    var list = Retrieve(child, docs, own, size);
                    for (var i = 0; i < list.Count; i++)
                    {
                        var add = weight / (k + i + 1);
                        scores[list[i].Id] = scores.TryGetValue(list[i].Id, out var s) ? (s.Score + add, s.First) : (add, scores.Count);
                    }
                }

                return [.. scores.OrderByDescending(p => p.Value.Score).ThenBy(p => p.Value.First).Take(window).Select(p => (p.Key, p.Value.Score))];
            }

            case "linear":
            {
                var size = (int)(spec["rank_window_size"]?.GetValue<double>() ?? 10);
                var scores = new Dictionary<string, (double Score, int First)>(StringComparer.Ordinal);
                foreach (var entry in spec["retrievers"]!.AsArray())
                {
                    var list = Retrieve(entry!["retriever"]!, docs, own, size);
                    var weight = entry["weight"]!.GetValue<double>();
                    var minmax = entry["normalizer"]?.GetValue<string>() == "minmax";
                    var (min, max) = list.Count == 0 ? (0, 0) : (list.Min(x => x.Score), list.Max(x => x.Score));
                    foreach (var (id, score) in list)
                    {
                        var normalized = !minmax ? score : max > min ? (score - min) / (max - min) : 1.0;
                        scores[id] = scores.TryGetValue(id, out var s) ? (s.Score + (weight * normalized), s.First) : (weight * normalized, scores.Count);
                    }
                }

                return [.. scores.OrderByDescending(p => p.Value.Score).ThenBy(p => p.Value.First).Take(window).Select(p => (p.Key, p.Value.Score))];
            }

            default:
                throw new NotSupportedException($"retriever '{kind}'");
        }
    }

    private static List<(string Id, double Score)> Standard(JsonNode query, List<(string Id, JsonObject Source, JsonObject Mappings)> docs, List<JsonNode> filters) =>
        docs.Select((d, i) => (d.Id, Score: filters.All(f => Matches(f, d.Source, docs)) ? Score(query, d.Source, docs) : null, Order: i))
            .Where(x => x.Score is not null)
            .OrderByDescending(x => x.Score)
            .ThenBy(x => x.Order)
            .Select(x => (x.Id, x.Score!.Value))
            .ToList();

    private static List<(string Id, double Score)> Knn(JsonNode knn, List<(string Id, JsonObject Source, JsonObject Mappings)> docs, List<JsonNode> filters)
    {
        var field = knn["field"]!.GetValue<string>();
        var query = knn["query_vector"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
        var k = (int)knn["k"]!.GetValue<double>();
        List<JsonNode> all = knn["filter"] is { } f ? [.. filters, .. (f is JsonArray a ? a.Select(n => n!) : [f])] : filters;
        return docs
            .Select((d, i) => (d, i))
            .Where(x => x.d.Source[field] is JsonArray && all.All(q => Matches(q, x.d.Source, docs)))
            .Select(x =>
            {
                var vector = x.d.Source[field]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
                var similarity = x.d.Mappings["properties"]?[field]?["similarity"]?.GetValue<string>() ?? "cosine";
                double score;
                if (similarity == "l2_norm")
                {
                    var d2 = vector.Zip(query, (a, b) => (a - b) * (a - b)).Sum();
                    score = 1 / (1 + d2);
                }
                else
                {
                    var dot = vector.Zip(query, (a, b) => a * b).Sum();
                    var norms = Math.Sqrt(vector.Sum(v => v * v)) * Math.Sqrt(query.Sum(v => v * v));
                    score = (1 + (dot / norms)) / 2;
                }

                return (x.d.Id, Score: score, Order: x.i, Cosine: similarity == "l2_norm" ? double.NaN : (2 * score) - 1);
            })
            .Where(x => knn["similarity"] is not { } floor || x.Cosine >= floor.GetValue<double>() - 1e-6) // raw cosine, as Elasticsearch reads it
            .OrderByDescending(x => x.Score)
            .ThenBy(x => x.Order)
            .Take(k)
            .Select(x => (x.Id, x.Score))
            .ToList();
    }

    public static bool Matches(JsonNode query, JsonObject doc, List<(string Id, JsonObject Source, JsonObject Mappings)> docs) => Score(query, doc, docs) is not null;

    /// <summary>The query's score for a document, or null when it does not match.</summary>
    private static double? Score(JsonNode query, JsonObject doc, List<(string Id, JsonObject Source, JsonObject Mappings)> docs)
    {
        var (kind, spec) = query.AsObject().Single();
        switch (kind)
        {
            case "match_all":
                return 1;
            case "bool":
                var total = 0.0;
                foreach (var clause in Clauses(spec!["must"]))
                {
                    if (Score(clause, doc, docs) is not { } s)
                    {
                        return null;
                    }

                    total += s;
                }

                if (Clauses(spec!["filter"]).Any(c => !Matches(c, doc, docs)) || Clauses(spec!["must_not"]).Any(c => Matches(c, doc, docs)))
                {
                    return null;
                }

                return total;
            case "multi_match":
                var text = spec!["query"]!.GetValue<string>();
                double? best = null;
                foreach (var entry in spec["fields"]!.AsArray().Select(n => n!.GetValue<string>()))
                {
                    var parts = entry.Split('^');
                    var boost = parts.Length > 1 ? double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 1;
                    if (Bm25(parts[0], Tokens(text), doc, docs) is { } s && (best is null || s * boost > best))
                    {
                        best = s * boost;
                    }
                }

                return best;
            case "match":
            {
                var (field, value) = spec!.AsObject().Single();
                var words = value is JsonObject o ? o["query"]!.ToString() : value!.ToString();
                return Bm25(field, Tokens(words), doc, docs);
            }

            case "term":
            {
                var (field, value) = spec!.AsObject().Single();
                var term = value is JsonObject o ? o["value"]!.ToString() : value!.ToString();
                return IsText(field, docs) ? Bm25(field, [term], doc, docs) : Values(doc[field]).Contains(term) ? 1 : null;
            }

            case "terms":
            {
                var (field, value) = spec!.AsObject().Single();
                var wanted = value!.AsArray().Select(n => n!.ToString()).ToHashSet(StringComparer.Ordinal);
                return Values(doc[field]).Any(wanted.Contains) ? 1 : null;
            }

            case "range":
            {
                var (field, bounds) = spec!.AsObject().Single();
                if (doc[field] is null)
                {
                    return null;
                }

                var have = DateTimeOffset.Parse(doc[field]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
                bool Check(string op, Func<DateTimeOffset, bool> ok) =>
                    bounds![op] is not { } b || ok(DateTimeOffset.Parse(b.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
                return Check("gte", b => have >= b) && Check("gt", b => have > b) && Check("lt", b => have < b) && Check("lte", b => have <= b) ? 1 : null;
            }

            default:
                throw new NotSupportedException($"query '{kind}'");
        }
    }

    private static IEnumerable<JsonNode> Clauses(JsonNode? node) => node switch
    {
        null => [],
        JsonArray array => array.Select(n => n!),
        _ => [node],
    };

    private static IEnumerable<string> Values(JsonNode? node) => node switch
    {
        null => [],
        JsonArray array => array.Select(n => n!.ToString()),
        _ => [node.ToString()],
    };

    private static bool IsText(string field, List<(string Id, JsonObject Source, JsonObject Mappings)> docs) =>
        docs.Select(d => d.Mappings["properties"]?[field]?["type"]?.GetValue<string>()).FirstOrDefault(t => t is not null) is "text" or null;

    private static List<string> Tokens(string text) =>
        [.. SplitWhere(text.ToLowerInvariant(), c => !char.IsLetterOrDigit(c)).Where(t => t.Length > 0)];

    private static string[] SplitWhere(string text, Func<char, bool> separator)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        foreach (var c in text)
        {
            if (separator(c))
            {
                tokens.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        tokens.Add(current.ToString());
        return [.. tokens];
    }

    /// <summary>Lucene's BM25 summed over the query terms present in the field; null when none is.</summary>
    private static double? Bm25(string field, List<string> terms, JsonObject doc, List<(string Id, JsonObject Source, JsonObject Mappings)> docs)
    {
        var fieldTokens = docs.Select(d => d.Source[field] is { } v ? Tokens(v.ToString()) : null).Where(t => t is not null).ToList();
        if (doc[field] is not { } value || fieldTokens.Count == 0)
        {
            return null;
        }

        var tokens = Tokens(value.ToString());
        var avgdl = fieldTokens.Average(t => t!.Count);
        double? score = null;
        foreach (var term in terms.Distinct(StringComparer.Ordinal))
        {
            var tf = tokens.Count(t => t == term);
            if (tf == 0)
            {
                continue;
            }

            var n = fieldTokens.Count(t => t!.Contains(term));
            var idf = Math.Log(1 + ((fieldTokens.Count - n + 0.5) / (n + 0.5)));
            score = (score ?? 0) + (idf * tf * (K1 + 1) / (tf + (K1 * (1 - B + (B * tokens.Count / avgdl)))));
        }

        return score;
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
