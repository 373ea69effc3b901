using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using FinNews.Core.Feeds;
using FinNews.Core.Search;
using FinNews.Core.Search.Elasticsearch;
using FinNews.Core.Search.Evaluation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FinNews.Bench;

/// <summary>
/// What the Elasticsearch index costs on the wire, per 10,000 documents: the real index and official client against a
/// loopback stand-in that answers like Elasticsearch 9 (product header, content type, gzip bodies) and counts every
/// request, its compressed and uncompressed body and its response. Then the search side: requests and bytes per hybrid
/// query on each path (client-side _msearch vs server-side rrf), and what the client-side fusion itself costs.
/// </summary>
internal static class EsBench
{
    public static async Task RunAsync(int documents, int queries)
    {
        await using var server = await CountingServer.StartAsync();
        var vocabulary = Words.Vocabulary(20_000, new Random(1));
        var zipf = new Words.Zipf(vocabulary.Length, new Random(2));
        var published = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var articles = Enumerable.Range(0, documents).Select(i => new Article($"s{i}", "bench", "bench",
            Words.Sample(zipf, vocabulary, 8), $"https://bench.test/{i}", Words.Sample(zipf, vocabulary, 40), string.Empty,
            published.AddMinutes(i * 7), published.AddMinutes(i * 7), false, [], [], [], $"s{i}")).ToList();

#pragma warning disable RS0030 // The bench is its own composition root; the clock only spaces 429 retries, which never happen here.
        var clock = TimeProvider.System;
#pragma warning restore RS0030
        using var embedder = new HashingEmbedder();
        using var index = new ElasticsearchSearchIndex(
            new ElasticsearchOptions { Url = server.Url, Username = "bench", Password = "bench", NumberOfReplicas = 0 },
            embedder, HashingEmbedder.ProviderName, FusionSettings.Default, null, clock);
        await index.InitializeAsync();
        server.Reset();

        var build = Stopwatch.StartNew();
        foreach (var batch in articles.Chunk(256))
        {
            // What SearchIndexer.DrainAsync does: one IndexAsync per 256 unindexed articles.
            await index.IndexAsync(batch);
        }

        build.Stop();
        var chunks = articles.Sum(a => Chunker.Chunk(a).Count);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"indexing {documents:N0} documents ({chunks:N0} chunks, 256 articles per IndexAsync, BulkBatchSize 500, hashing 256-d) in {build.Elapsed.TotalSeconds:F1} s"));
        server.Print(documents);

        var random = new Random(3);
        var texts = Enumerable.Range(0, queries).Select(_ => Words.Sample(zipf, vocabulary, 3 + random.Next(4))).ToList();
        foreach (var (name, licence, retriever) in new[] { ("client-side fusion (basic licence)", "basic", "none"), ("server-side rrf (enterprise)", "enterprise", "rrf"), ("server-side linear (enterprise)", "enterprise", "linear") })
        {
            server.Licence = licence;
            using var path = new ElasticsearchSearchIndex(
                new ElasticsearchOptions { Url = server.Url, Username = "bench", Password = "bench", HybridRetriever = retriever },
                embedder, HashingEmbedder.ProviderName, FusionSettings.Default, null, clock);
            await path.InitializeAsync();
            foreach (var text in texts.Take(20))
            {
                await path.SearchAsync(new SearchQuery(text, SearchMode.Hybrid, 10)); // warm-up (JIT, connections)
            }

            server.Reset();
            var times = new List<double>(queries);
            foreach (var text in texts)
            {
                var timer = Stopwatch.StartNew();
                await path.SearchAsync(new SearchQuery(text, SearchMode.Hybrid, 10));
                times.Add(timer.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"hybrid, {name}: {queries} queries, limit 10 (50 candidates per ranking); loopback p50 {RetrievalMetrics.Percentile(times, 50):F2} ms, p95 {RetrievalMetrics.Percentile(times, 95):F2} ms"));
            server.Print(queries, "query");
        }

        FusionOverhead();
    }

    /// <summary>The client-side fusion alone, on two 50-candidate lists as a limit-10 hybrid search fetches.</summary>
    private static void FusionOverhead()
    {
        var random = new Random(4);
        List<RankedChunk> List(string prefix) => Enumerable.Range(0, 50)
            .Select(i => new RankedChunk($"{prefix}{random.Next(80)}", $"{prefix}{random.Next(80)}#0", 50 - i + random.NextDouble(), 0))
            .DistinctBy(c => c.ChunkId).ToList();
        var pairs = Enumerable.Range(0, 1000).Select(_ => (List("a"), List("a"))).ToList();
        foreach (var settings in new[] { FusionSettings.Default, new FusionSettings(HybridFusion.ReciprocalRank) })
        {
            foreach (var (lexical, vector) in pairs.Take(200))
            {
                HybridRanking.BestPerArticle(HybridRanking.Fuse(lexical, vector, settings), 10); // warm-up
            }

            var times = new List<double>(pairs.Count);
            foreach (var (lexical, vector) in pairs)
            {
                var timer = Stopwatch.StartNew();
                HybridRanking.BestPerArticle(HybridRanking.Fuse(lexical, vector, settings), 10);
                times.Add(timer.Elapsed.TotalMicroseconds);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fusion overhead, {settings.Fusion}: Fuse + BestPerArticle over 2 x 50 candidates: p50 {RetrievalMetrics.Percentile(times, 50):F1} µs, p95 {RetrievalMetrics.Percentile(times, 95):F1} µs ({pairs.Count} runs)"));
        }
    }

    /// <summary>Seeded synthetic text: the same vocabulary and Zipf sampling as the hybrid bench.</summary>
    private static class Words
    {
        public static string Sample(Zipf zipf, string[] vocabulary, int count) =>
            string.Join(' ', Enumerable.Range(0, count).Select(_ => vocabulary[zipf.Next()]));

        public static string[] Vocabulary(int size, Random random)
        {
            const string Letters = "abcdefghijklmnopqrstuvwxyz";
            var words = new HashSet<string>(StringComparer.Ordinal);
            while (words.Count < size)
            {
                words.Add(new string(Enumerable.Range(0, 3 + random.Next(8)).Select(_ => Letters[random.Next(Letters.Length)]).ToArray()));
            }

            return [.. words];
        }

        public sealed class Zipf
        {
            private readonly double[] _cdf;
            private readonly Random _random;

            public Zipf(int n, Random random)
            {
                _random = random;
                _cdf = new double[n];
                var sum = 0.0;
                for (var i = 0; i < n; i++)
                {
                    sum += 1.0 / (i + 1);
                    _cdf[i] = sum;
                }

                for (var i = 0; i < n; i++)
                {
                    _cdf[i] /= sum;
                }
            }

            public int Next()
            {
                var index = Array.BinarySearch(_cdf, _random.NextDouble());
                return Math.Min(index < 0 ? ~index : index, _cdf.Length - 1);
            }
        }
    }

    /// <summary>
    /// Answers like Elasticsearch 9 for the index's calls and counts requests and bytes per API. Searches return
    /// <c>size</c> hits drawn from the documents it was sent, so response sizes are realistic.
    /// </summary>
    private sealed class CountingServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, (int Count, long Wire, long Plain, long Response)> _stats = new(StringComparer.Ordinal);
        private readonly List<JsonObject> _documents = [];
        private readonly Lock _lock = new();
        private int _search;

        private CountingServer(WebApplication app) => _app = app;

        public string Url { get; private set; } = string.Empty;

        public string Licence { get; set; } = "basic";

        public static async Task<CountingServer> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var server = new CountingServer(app);
            app.Run(server.HandleAsync);
            await app.StartAsync();
            server.Url = app.Urls.First();
            return server;
        }

        public void Reset() => _stats.Clear();

        public void Print(int per, string unit = "10k documents")
        {
            var scale = unit == "query" ? 1.0 / per : 10_000.0 / per;
            foreach (var (api, s) in _stats.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {api,-22} {s.Count * scale,9:F2} requests  {s.Wire * scale / 1024,10:F1} KiB sent (gzip)  {s.Plain * scale / 1024,10:F1} KiB uncompressed  {s.Response * scale / 1024,9:F1} KiB received   per {(unit == "query" ? "query" : "10k documents")}"));
            }
        }

        private async Task HandleAsync(HttpContext context)
        {
            using var wire = new MemoryStream();
            await context.Request.Body.CopyToAsync(wire);
            var body = wire.ToArray();
            if (context.Request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.Ordinal))
            {
                using var gunzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
                using var plain = new MemoryStream();
                await gunzip.CopyToAsync(plain);
                body = plain.ToArray();
            }

            var path = context.Request.Path.Value ?? "/";
            var api = path.Split('/', StringSplitOptions.RemoveEmptyEntries) switch
            {
                [] => "info",
                [var first, ..] when first.StartsWith('_') => first,
                [_, var second, ..] => second,
                [_] => context.Request.Method == "PUT" ? "create index" : "index",
            };
            var (status, reply) = Respond(api, context.Request.Method, body);
            var bytes = Encoding.UTF8.GetBytes(reply);
            _stats.AddOrUpdate(api, _ => (1, wire.Length, body.Length, bytes.Length), (_, s) => (s.Count + 1, s.Wire + wire.Length, s.Plain + body.Length, s.Response + bytes.Length));
            context.Response.StatusCode = status;
            context.Response.ContentType = context.Request.Headers.Accept.ToString().Contains("vnd.elasticsearch", StringComparison.Ordinal)
                ? "application/vnd.elasticsearch+json;compatible-with=9"
                : "application/json";
            context.Response.Headers["X-Elastic-Product"] = "Elasticsearch";
            await context.Response.Body.WriteAsync(bytes);
        }

        private (int Status, string Body) Respond(string api, string method, byte[] body)
        {
            switch (api)
            {
                case "info":
                    return (200, """{"name":"bench","cluster_name":"bench","cluster_uuid":"x","version":{"number":"9.1.0","build_flavor":"default","build_type":"docker","build_hash":"x","build_date":"2025-07-17T20:55:49.187Z","build_snapshot":false,"lucene_version":"10.2.2","minimum_wire_compatibility_version":"8.19.0","minimum_index_compatibility_version":"8.0.0"},"tagline":"You Know, for Search"}""");
                case "_license":
                    return (200, $$$"""{"license":{"status":"active","uid":"x","type":"{{{Licence}}}","issue_date":"2025-01-01T00:00:00.000Z","issue_date_in_millis":1735689600000,"max_nodes":1000,"issued_to":"bench","issuer":"elasticsearch","start_date_in_millis":-1}}""");
                case "_cluster":
                    return (200, """{"cluster_name":"bench","status":"green","timed_out":false,"number_of_nodes":1,"number_of_data_nodes":1,"active_primary_shards":1,"active_shards":1,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0,"unassigned_primary_shards":0,"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0}""");
                case "_mapping":
                    return (404, """{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index"}],"type":"index_not_found_exception","reason":"no such index"},"status":404}""");
                case "_index_template":
                    return (200, """{"acknowledged":true}""");
                case "create index":
                    return (200, """{"acknowledged":true,"shards_acknowledged":true,"index":"x"}""");
                case "_delete_by_query":
                    return (200, """{"took":1,"timed_out":false,"total":0,"deleted":0,"batches":0,"version_conflicts":0,"noops":0,"retries":{"bulk":0,"search":0},"throttled_millis":0,"requests_per_second":-1.0,"throttled_until_millis":0,"failures":[]}""");
                case "_bulk":
                    var lines = Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                    var items = new JsonArray();
                    for (var i = 0; i + 1 < lines.Length; i += 2)
                    {
                        var action = JsonNode.Parse(lines[i])!["index"]!;
                        var source = JsonNode.Parse(lines[i + 1])!.AsObject();
                        source.Remove("vector");
                        lock (_lock)
                        {
                            _documents.Add(source);
                        }

                        items.Add(new JsonObject { ["index"] = new JsonObject { ["_index"] = action["_index"]!.GetValue<string>(), ["_id"] = action["_id"]!.GetValue<string>(), ["_version"] = 1, ["result"] = "created", ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["failed"] = 0 }, ["_seq_no"] = 0, ["_primary_term"] = 1, ["status"] = 201 } });
                    }

                    return (200, new JsonObject { ["errors"] = false, ["took"] = 5, ["items"] = items }.ToJsonString());
                case "_msearch":
                    var searches = Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                    var responses = new JsonArray();
                    for (var i = 1; i < searches.Length; i += 2)
                    {
                        var result = Hits(JsonNode.Parse(searches[i])!["size"]!.GetValue<int>());
                        result["status"] = 200;
                        responses.Add(result);
                    }

                    return (200, new JsonObject { ["took"] = 3, ["responses"] = responses }.ToJsonString());
                case "_search":
                    return (200, Hits(JsonNode.Parse(body)!["size"]!.GetValue<int>()).ToJsonString());
                default:
                    return (400, $$$"""{"error":{"type":"bench","reason":"{{{method}}} {{{api}}} not scripted"},"status":400}""");
            }
        }

        private JsonObject Hits(int size)
        {
            var hits = new JsonArray();
            lock (_lock)
            {
                var start = _search++ * 7919;
                for (var i = 0; i < size && _documents.Count > 0; i++)
                {
                    var source = _documents[(start + (i * 131)) % _documents.Count];
                    hits.Add(new JsonObject
                    {
                        ["_index"] = "finnews-chunks-2025.01",
                        ["_id"] = source["chunk_id"]!.GetValue<string>(),
                        ["_score"] = size - i,
                        ["_source"] = new JsonObject
                        {
                            ["article_id"] = source["article_id"]!.GetValue<string>(),
                            ["chunk_id"] = source["chunk_id"]!.GetValue<string>(),
                            ["published_at"] = source["published_at"]!.GetValue<string>(),
                            ["text"] = source["text"]!.GetValue<string>(),
                        },
                    });
                }
            }

            return new JsonObject
            {
                ["took"] = 2,
                ["timed_out"] = false,
                ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["skipped"] = 0, ["failed"] = 0 },
                ["hits"] = new JsonObject { ["max_score"] = size, ["hits"] = hits },
            };
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
