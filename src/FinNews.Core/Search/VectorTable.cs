using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// Large tables scan an 8-bit copy of the vectors first (a quarter of the memory traffic of the floats, which is what
/// an exact scan of a million rows waits on), keep the best <see cref="RerankCandidates"/> rows by that estimate, and
/// rank those by their exact float cosine: scores are always exact, and only a row whose estimate falls outside the
/// candidates can be missed (bench/README.md measures recall against the exact scan).
/// </remarks>
internal sealed class VectorTable
{
    // Below this many rows a single thread beats the cost of scheduling partitions.
    private const int ParallelThreshold = 32_768;
    private const int PartitionRows = 16_384;

    /// <summary>Tables with more rows than this scan the 8-bit copy first (below it the exact scan takes a few ms).</summary>
    public const int QuantizedThreshold = 131_072;

    private readonly Dictionary<string, int> _articleOrdinals = new(StringComparer.Ordinal);
    private readonly List<string> _articleIds = [];
    private readonly Dictionary<int, List<int>> _rowsByArticle = [];
    private readonly Dictionary<string, int> _feedOrdinals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _tickerOrdinals = new(StringComparer.Ordinal);

    private float[] _vectors;
    private sbyte[] _codes;
    private float[] _codeScales;
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
        _codes = new sbyte[(long)capacity * dimensions];
        _codeScales = new float[capacity];
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

    /// <summary>Forces the 8-bit first pass on (<c>true</c>) or off (<c>false</c>); <c>null</c> decides by <see cref="QuantizedThreshold"/>.</summary>
    public bool? Quantized { get; set; }

    /// <summary>How many rows the 8-bit pass hands to the exact ranking for a search of the best <paramref name="k"/>.</summary>
    public static int RerankCandidates(int k) => Math.Max(k * 10, 1_000);

    public void Add(string articleId, int n, long publishedMs, string feedId, IReadOnlyList<string> tickers, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimensions)
        {
            throw new InvalidOperationException($"vector has {vector.Length} dims, the index has {Dimensions}");
        }

        EnsureCapacity(Rows + 1);
        var row = Rows++;
        vector.CopyTo(_vectors.AsSpan(row * Dimensions, Dimensions));
        _codeScales[row] = Quantize(vector, _codes.AsSpan(row * Dimensions, Dimensions));
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
    public List<VectorCandidate> Search(float[] query, VectorFilter filter, int k, bool? quantized = null)
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

        var useCodes = quantized ?? Quantized ?? rows > QuantizedThreshold;
        var scores = ArrayPool<float>.Shared.Rent(rows);
        var queryCodes = useCodes ? new sbyte[Dimensions] : null;
        var queryScale = queryCodes is null ? 0f : Quantize(query, queryCodes);
        try
        {
            if (rows < ParallelThreshold || MaxDegreeOfParallelism == 1)
            {
                Score(0, rows, query, queryCodes, queryScale, scores, since, until, feedMask, tickerMask);
            }
            else
            {
                var partitions = (rows + PartitionRows - 1) / PartitionRows;
                var parallel = new ParallelOptions { MaxDegreeOfParallelism = MaxDegreeOfParallelism ?? -1 };
                Parallel.For(0, partitions, parallel, p =>
                {
                    var start = p * PartitionRows;
                    Score(start, Math.Min(rows, start + PartitionRows), query, queryCodes, queryScale, scores, since, until, feedMask, tickerMask);
                });
            }

            var best = Best(scores, rows, useCodes ? RerankCandidates(k) : k);
            if (useCodes)
            {
                // The estimates only chose the candidates: rank them by their exact cosine.
                var dims = Dimensions;
                for (var i = 0; i < best.Count; i++)
                {
                    var row = best[i].Row;
                    best[i] = (row, TensorPrimitives.Dot(new ReadOnlySpan<float>(_vectors, row * dims, dims), query));
                }

                best.RemoveAll(static b => !(b.Score > 0f));
                SortBest(best);
                if (best.Count > k)
                {
                    best.RemoveRange(k, best.Count - k);
                }
            }

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

    /// <summary>The <paramref name="k"/> rows with the highest positive scores, best first, ties to the earlier row.</summary>
    private static List<(int Row, float Score)> Best(float[] scores, int rows, int k)
    {
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

        var best = new List<(int Row, float Score)>(heap.Count);
        while (heap.TryDequeue(out var row, out var score))
        {
            best.Add((row, score));
        }

        SortBest(best);
        return best;
    }

    // The heap's order among equal scores is unspecified; sort so ties go to the earlier row.
    private static void SortBest(List<(int Row, float Score)> best) =>
        best.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Row.CompareTo(b.Row));

    /// <summary>
    /// Symmetric 8-bit codes of a vector: each component divided by the largest magnitude over 127 and rounded; the
    /// scale is returned, so <c>code · scale</c> approximates the component.
    /// </summary>
    internal static float Quantize(ReadOnlySpan<float> vector, Span<sbyte> codes)
    {
        var max = vector.IsEmpty ? 0f : Math.Abs(TensorPrimitives.MaxMagnitude(vector)); // the component itself, sign included
        var scale = max > 0f && float.IsFinite(max) ? max / 127f : 0f;
        for (var i = 0; i < vector.Length; i++)
        {
            codes[i] = scale == 0f ? (sbyte)0 : (sbyte)Math.Clamp(MathF.Round(vector[i] / scale), -127f, 127f);
        }

        return scale;
    }

    /// <summary>The integer dot product of two code vectors (AVX2: 32 codes per step, widened to 16 bits, multiplied and summed pairwise into 32).</summary>
    internal static int DotCodes(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, bool vectorized = true)
    {
        var i = 0;
        var sum = 0;
        if (vectorized && Avx2.IsSupported && a.Length >= 32)
        {
            ref var ra = ref MemoryMarshal.GetReference(a);
            ref var rb = ref MemoryMarshal.GetReference(b);
            var acc = Vector256<int>.Zero;
            for (; i <= a.Length - 32; i += 32)
            {
                var (aLow, aHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref ra, (nuint)i));
                var (bLow, bHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref rb, (nuint)i));
                acc = Avx2.Add(acc, Avx2.MultiplyAddAdjacent(aLow, bLow));
                acc = Avx2.Add(acc, Avx2.MultiplyAddAdjacent(aHigh, bHigh));
            }

            sum = Vector256.Sum(acc);
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    // Fully optimized from the first call: the first search after start-up should not scan a million rows in tier-0 code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Score(int start, int end, float[] query, sbyte[]? queryCodes, float queryScale, float[] scores, long since, long until,
        bool[]? feedMask, bool[]? tickerMask)
    {
        var dims = Dimensions;
        var vectors = _vectors;
        var codes = _codes;
        for (var row = start; row < end; row++)
        {
            if (_dead[row] || !Passes(row, since, until, feedMask, tickerMask))
            {
                scores[row] = float.NegativeInfinity;
                continue;
            }

            // Vectors are L2-normalized on write, so the dot product is the cosine similarity (or its 8-bit estimate).
            scores[row] = queryCodes is null
                ? TensorPrimitives.Dot(new ReadOnlySpan<float>(vectors, row * dims, dims), query)
                : DotCodes(new ReadOnlySpan<sbyte>(codes, row * dims, dims), queryCodes) * _codeScales[row] * queryScale;
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
        Array.Resize(ref _codes, capacity * Dimensions);
        Array.Resize(ref _codeScales, capacity);
        Array.Resize(ref _articles, capacity);
        Array.Resize(ref _n, capacity);
        Array.Resize(ref _published, capacity);
        Array.Resize(ref _feeds, capacity);
        Array.Resize(ref _tickers, capacity);
        Array.Resize(ref _dead, capacity);
    }
}
