using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace FinNews.Core.Search;

/// <summary>A vector-scan hit: a row of <see cref="VectorTable"/> with its cosine similarity.</summary>
internal readonly record struct VectorCandidate(string ArticleId, int N, float Score, long PublishedMs = 0)
{
    public string ChunkId => Chunker.ChunkId(ArticleId, N);
}

/// <summary>Filters resolved for one scan; <c>null</c> members do not filter.</summary>
internal sealed record VectorFilter(long? SinceMs, long? UntilMs, IReadOnlyList<string>? Tickers, IReadOnlyList<string>? Sources);

/// <summary>
/// Every chunk vector in one contiguous <see cref="float"/> array plus parallel metadata arrays, for exact
/// (brute-force) cosine search. Not thread-safe: the owner serializes writers against readers.
/// </summary>
/// <remarks>
/// Strings (article ids, feed ids, tickers) are interned to ordinals once, so the scan loop compares integers and
/// allocates nothing per row. Deleted rows are tombstoned; the owner rebuilds the table when too many accumulate.
/// </remarks>
internal sealed class VectorTable
{
    // Below this many rows a single thread beats the cost of scheduling partitions.
    private const int ParallelThreshold = 32_768;
    private const int PartitionRows = 16_384;

    private readonly Dictionary<string, int> _articleOrdinals = new(StringComparer.Ordinal);
    private readonly List<string> _articleIds = [];
    private readonly Dictionary<int, List<int>> _rowsByArticle = [];
    private readonly Dictionary<string, int> _feedOrdinals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _tickerOrdinals = new(StringComparer.Ordinal);

    private float[] _vectors;
    private int[] _articles;
    private int[] _n;
    private long[] _published;
    private int[] _feeds;
    private int[][] _tickers;
    private bool[] _dead;

    public VectorTable(int dimensions, long generation, int capacity = 1024)
    {
        Dimensions = dimensions;
        Generation = generation;
        capacity = Math.Max(capacity, 16);
        _vectors = new float[(long)capacity * dimensions];
        _articles = new int[capacity];
        _n = new int[capacity];
        _published = new long[capacity];
        _feeds = new int[capacity];
        _tickers = new int[capacity][];
        _dead = new bool[capacity];
    }

    public int Dimensions { get; }

    /// <summary>The <c>search_meta</c> generation this table reflects.</summary>
    public long Generation { get; set; }

    /// <summary>Rows including tombstones.</summary>
    public int Rows { get; private set; }

    public int DeadRows { get; private set; }

    public int LiveRows => Rows - DeadRows;

    /// <summary>Caps the threads one scan uses (<c>null</c>: all cores); for benchmarks and tests.</summary>
    public int? MaxDegreeOfParallelism { get; set; }

    public void Add(string articleId, int n, long publishedMs, string feedId, IReadOnlyList<string> tickers, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimensions)
        {
            throw new InvalidOperationException($"vector has {vector.Length} dims, the index has {Dimensions}");
        }

        EnsureCapacity(Rows + 1);
        var row = Rows++;
        vector.CopyTo(_vectors.AsSpan(row * Dimensions, Dimensions));
        var article = Intern(_articleOrdinals, articleId, _articleIds);
        _articles[row] = article;
        _n[row] = n;
        _published[row] = publishedMs;
        _feeds[row] = Intern(_feedOrdinals, feedId, null);
        _tickers[row] = tickers.Count == 0 ? [] : tickers.Select(t => Intern(_tickerOrdinals, t, null)).ToArray();
        _dead[row] = false;
        if (!_rowsByArticle.TryGetValue(article, out var rows))
        {
            rows = [];
            _rowsByArticle[article] = rows;
        }

        rows.Add(row);
    }

    public void RemoveArticle(string articleId)
    {
        if (!_articleOrdinals.TryGetValue(articleId, out var article) || !_rowsByArticle.Remove(article, out var rows))
        {
            return;
        }

        foreach (var row in rows)
        {
            _dead[row] = true;
            DeadRows++;
        }
    }

    /// <summary>The <paramref name="k"/> most similar live rows that pass the filter, best first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public List<VectorCandidate> Search(float[] query, VectorFilter filter, int k)
    {
        if (query.Length != Dimensions)
        {
            throw new InvalidOperationException($"query vector has {query.Length} dims, the index has {Dimensions}");
        }

        var rows = Rows;
        var results = new List<VectorCandidate>();
        if (rows == 0 || k <= 0)
        {
            return results;
        }

        var feedMask = Mask(filter.Sources, _feedOrdinals);
        var tickerMask = Mask(filter.Tickers, _tickerOrdinals);
        var since = filter.SinceMs ?? long.MinValue;
        var until = filter.UntilMs ?? long.MaxValue;

        var scores = ArrayPool<float>.Shared.Rent(rows);
        try
        {
            if (rows < ParallelThreshold || MaxDegreeOfParallelism == 1)
            {
                Score(0, rows, query, scores, since, until, feedMask, tickerMask);
            }
            else
            {
                var partitions = (rows + PartitionRows - 1) / PartitionRows;
                var parallel = new ParallelOptions { MaxDegreeOfParallelism = MaxDegreeOfParallelism ?? -1 };
                Parallel.For(0, partitions, parallel, p =>
                {
                    var start = p * PartitionRows;
                    Score(start, Math.Min(rows, start + PartitionRows), query, scores, since, until, feedMask, tickerMask);
                });
            }

            // Min-heap of the best k; on equal scores the earlier row stays, so results are deterministic.
            var heap = new PriorityQueue<int, float>(k + 1);
            for (var row = 0; row < rows; row++)
            {
                var score = scores[row];
                if (!(score > 0f))
                {
                    continue; // filtered out (-inf), or nothing in common with the query
                }

                if (heap.Count < k)
                {
                    heap.Enqueue(row, score);
                }
                else if (heap.TryPeek(out _, out var worst) && score > worst)
                {
                    heap.DequeueEnqueue(row, score);
                }
            }

            // The heap's order among equal scores is unspecified; sort so ties go to the earlier row.
            var best = new List<(int Row, float Score)>(heap.Count);
            while (heap.TryDequeue(out var row, out var score))
            {
                best.Add((row, score));
            }

            best.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Row.CompareTo(b.Row));
            foreach (var (row, score) in best)
            {
                results.Add(new VectorCandidate(_articleIds[_articles[row]], _n[row], score, _published[row]));
            }

            return results;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scores);
        }
    }

    // Fully optimized from the first call: the first search after start-up should not scan a million rows in tier-0 code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Score(int start, int end, float[] query, float[] scores, long since, long until, bool[]? feedMask, bool[]? tickerMask)
    {
        var dims = Dimensions;
        var vectors = _vectors;
        for (var row = start; row < end; row++)
        {
            if (_dead[row] || !Passes(row, since, until, feedMask, tickerMask))
            {
                scores[row] = float.NegativeInfinity;
                continue;
            }

            // Vectors are L2-normalized on write, so the dot product is the cosine similarity.
            scores[row] = TensorPrimitives.Dot(new ReadOnlySpan<float>(vectors, row * dims, dims), query);
        }
    }

    private bool Passes(int row, long since, long until, bool[]? feedMask, bool[]? tickerMask)
    {
        var published = _published[row];
        if (published < since || published >= until)
        {
            return false;
        }

        if (feedMask is not null && !feedMask[_feeds[row]])
        {
            return false;
        }

        if (tickerMask is null)
        {
            return true;
        }

        foreach (var ticker in _tickers[row])
        {
            if (tickerMask[ticker])
            {
                return true;
            }
        }

        return false;
    }

    // null: no filter. Otherwise one flag per known ordinal; values the table has never seen simply match nothing.
    private static bool[]? Mask(IReadOnlyList<string>? wanted, Dictionary<string, int> ordinals)
    {
        if (wanted is null || wanted.Count == 0)
        {
            return null;
        }

        var mask = new bool[ordinals.Count];
        foreach (var value in wanted)
        {
            if (ordinals.TryGetValue(value, out var ordinal))
            {
                mask[ordinal] = true;
            }
        }

        return mask;
    }

    private static int Intern(Dictionary<string, int> ordinals, string value, List<string>? values)
    {
        if (!ordinals.TryGetValue(value, out var ordinal))
        {
            ordinal = ordinals.Count;
            ordinals[value] = ordinal;
            values?.Add(value);
        }

        return ordinal;
    }

    private void EnsureCapacity(int rows)
    {
        if (rows <= _articles.Length)
        {
            return;
        }

        var capacity = Math.Max(rows, _articles.Length * 2);
        if ((long)capacity * Dimensions > Array.MaxLength)
        {
            throw new InvalidOperationException($"the in-memory vector table cannot hold {rows} rows of {Dimensions} dims");
        }

        Array.Resize(ref _vectors, capacity * Dimensions);
        Array.Resize(ref _articles, capacity);
        Array.Resize(ref _n, capacity);
        Array.Resize(ref _published, capacity);
        Array.Resize(ref _feeds, capacity);
        Array.Resize(ref _tickers, capacity);
        Array.Resize(ref _dead, capacity);
    }
}
