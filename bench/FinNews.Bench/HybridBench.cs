using System.Diagnostics;
using System.Globalization;
using FinNews.Core.Feeds;
using FinNews.Core.Search;
using FinNews.Core.Search.Evaluation;
using Microsoft.Data.Sqlite;

namespace FinNews.Bench;

/// <summary>
/// Hybrid search through the real <see cref="SqliteSearchIndex"/> (FTS5 + vector scan + RRF) over synthetic articles:
/// one chunk each (title + summary), Zipf-distributed words from a seeded vocabulary.
/// </summary>
internal static class HybridBench
{
    public static async Task RunAsync(int articles, int queries, string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"bench-{articles}.db");
        foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
        {
            File.Delete(path + suffix);
        }

        var connectionString = new SqliteConnectionStringBuilder { DataSource = path }.ToString();
        using var embedder = new HashingEmbedder();
        using var index = new SqliteSearchIndex(connectionString, embedder, HashingEmbedder.ProviderName);
        await index.InitializeAsync();

        var corpus = new SyntheticCorpus();
        var published = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var build = Stopwatch.StartNew();
        const int Batch = 2_000;
        for (var start = 0; start < articles; start += Batch)
        {
            var batch = new List<Article>(Batch);
            for (var i = start; i < Math.Min(articles, start + Batch); i++)
            {
                var (title, summary) = corpus.NextDocument();
                batch.Add(new Article($"s{i}", "bench", "bench", title, $"https://bench.test/{i}", summary, string.Empty,
                    published.AddMinutes(i), published.AddMinutes(i), false, [], [], [], $"s{i}"));
            }

            await index.IndexAsync(batch);
            if ((start / Batch) % 10 == 0)
            {
                Console.WriteLine($"  {start + batch.Count:N0} articles, {(start + batch.Count) / build.Elapsed.TotalSeconds:F0} chunks/s");
            }
        }

        build.Stop();
        var chunks = await index.CountAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"indexed {chunks:N0} chunks in {build.Elapsed.TotalSeconds:F1} s = {chunks / build.Elapsed.TotalSeconds:F0} chunks/s; db {new FileInfo(path).Length / 1e6:F0} MB"));

        var texts = corpus.Queries(queries + 20);
        foreach (var mode in new[] { SearchMode.Lexical, SearchMode.Vector, SearchMode.Hybrid })
        {
            for (var i = 0; i < 20; i++)
            {
                await index.SearchAsync(new SearchQuery(texts[i], mode, 10)); // warm-up (also loads the vector table)
            }

            var times = new List<double>(queries);
            for (var i = 0; i < queries; i++)
            {
                var timer = Stopwatch.StartNew();
                await index.SearchAsync(new SearchQuery(texts[20 + i], mode, 10));
                times.Add(timer.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{mode,-8} at {chunks:N0} chunks, limit 10: p50 {RetrievalMetrics.Percentile(times, 50):F1} ms, p95 {RetrievalMetrics.Percentile(times, 95):F1} ms over {queries} queries"));
        }

        SqliteConnection.ClearAllPools();
    }
}
