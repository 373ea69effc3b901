using System.Diagnostics;
using System.Globalization;
using FinNews.Core.Search;
using FinNews.Core.Search.Evaluation;
using FinNews.Core.Storage;
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

        var vocabulary = Vocabulary(20_000, new Random(1));
        var zipf = new Zipf(vocabulary.Length, new Random(2));
        var published = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var build = Stopwatch.StartNew();
        const int Batch = 2_000;
        for (var start = 0; start < articles; start += Batch)
        {
            var batch = new List<Article>(Batch);
            for (var i = start; i < Math.Min(articles, start + Batch); i++)
            {
                var title = Words(zipf, vocabulary, 8);
                var summary = Words(zipf, vocabulary, 40);
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

        var random = new Random(3);
        var texts = Enumerable.Range(0, queries + 20).Select(_ => Words(zipf, vocabulary, 3 + random.Next(4))).ToList();
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

    private static string Words(Zipf zipf, string[] vocabulary, int count) =>
        string.Join(' ', Enumerable.Range(0, count).Select(_ => vocabulary[zipf.Next()]));

    private static string[] Vocabulary(int size, Random random)
    {
        const string Letters = "abcdefghijklmnopqrstuvwxyz";
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (words.Count < size)
        {
            var length = 3 + random.Next(8);
            words.Add(new string(Enumerable.Range(0, length).Select(_ => Letters[random.Next(Letters.Length)]).ToArray()));
        }

        return [.. words];
    }

    /// <summary>Samples ranks 0..n-1 with probability ∝ 1/(rank+1) (inverse CDF by binary search).</summary>
    private sealed class Zipf
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
