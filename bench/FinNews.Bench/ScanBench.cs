using System.Diagnostics;
using System.Globalization;
using FinNews.Core.Search;
using FinNews.Core.Search.Evaluation;

namespace FinNews.Bench;

/// <summary>Exact vector scan over an in-memory <see cref="VectorTable"/> (no SQLite): the cost of one vector query.</summary>
internal static class ScanBench
{
    public static void Run(int rows, int dimensions, int queries, int warmup)
    {
        Console.WriteLine($"building {rows:N0} × {dimensions}-d table (seeded random unit vectors)...");
        var build = Stopwatch.StartNew();
        var table = Build(rows, dimensions, seed: 42);
        Console.WriteLine($"built in {build.Elapsed.TotalSeconds:F1} s");

        var random = new Random(7);
        var queryVectors = Enumerable.Range(0, queries + warmup).Select(_ => RandomUnit(random, dimensions)).ToList();
        var filter = new VectorFilter(null, null, null, null);
        foreach (var threads in new int?[] { 1, null })
        {
            table.MaxDegreeOfParallelism = threads;
            for (var i = 0; i < warmup; i++)
            {
                table.Search(queryVectors[i], filter, 50);
            }

            var times = new List<double>(queries);
            for (var i = 0; i < queries; i++)
            {
                var timer = Stopwatch.StartNew();
                table.Search(queryVectors[warmup + i], filter, 50);
                times.Add(timer.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"scan {rows:N0} × {dimensions}-d, top 50, threads={(threads?.ToString(CultureInfo.InvariantCulture) ?? $"all ({Environment.ProcessorCount})")}: " +
                $"p50 {RetrievalMetrics.Percentile(times, 50):F1} ms, p95 {RetrievalMetrics.Percentile(times, 95):F1} ms, min {times.Min():F1} ms over {queries} queries"));
        }
    }

    public static VectorTable Build(int rows, int dimensions, int seed)
    {
        var random = new Random(seed);
        var table = new VectorTable(dimensions, generation: 1, capacity: rows);
        string[] feeds = ["reuters", "bloomberg", "ft", "wsj"];
        for (var row = 0; row < rows; row++)
        {
            table.Add($"a{row}", 0, 1_700_000_000_000L + row, feeds[row % feeds.Length], [], RandomUnit(random, dimensions));
        }

        return table;
    }

    private static float[] RandomUnit(Random random, int dimensions)
    {
        var v = new float[dimensions];
        var norm = 0.0;
        for (var i = 0; i < dimensions; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1);
            norm += v[i] * v[i];
        }

        var scale = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < dimensions; i++)
        {
            v[i] *= scale;
        }

        return v;
    }
}
