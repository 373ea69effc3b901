using BenchmarkDotNet.Attributes;
using FinNews.Core.Search;

namespace FinNews.Bench;

/// <summary>BenchmarkDotNet version of the exact scan (<c>FinNews.Bench scan-bdn</c>).</summary>
[MemoryDiagnoser]
public class ScanBenchmark
{
    private VectorTable? _table;
    private float[] _query = [];
    private readonly VectorFilter _filter = new(null, null, null, null);

    [GlobalSetup]
    public void Setup()
    {
        _table = ScanBench.Build(1_000_000, 100, seed: 42);
        _query = UnitQuery();
    }

    [Benchmark]
    public int SingleThreaded()
    {
        _table!.MaxDegreeOfParallelism = 1;
        return _table.Search(_query, _filter, 50).Count;
    }

    [Benchmark]
    public int AllCores()
    {
        _table!.MaxDegreeOfParallelism = null;
        return _table.Search(_query, _filter, 50).Count;
    }

    private static float[] UnitQuery()
    {
        var q = new float[100];
        for (var i = 0; i < q.Length; i++)
        {
            q[i] = (i % 7) - 3;
        }

        var norm = MathF.Sqrt(q.Sum(x => x * x));
        return q.Select(x => x / norm).ToArray();
    }
}
