using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace FinNews.Core.Search;

/// <summary>
/// An offline, deterministic embedder: feature hashing of lower-cased word unigrams, bigrams and (optionally) word
/// character 3-grams into a fixed number of signed buckets, with sublinear term frequency and L2 normalization.
/// </summary>
/// <remarks>
/// It knows no synonyms, so it only rewards shared words and word fragments; it exists so search works with no model
/// and no network. Hashes are FNV-1a over UTF-8 (never <see cref="string.GetHashCode()"/>, which is randomized per
/// process), so vectors written by one process are valid in the next. Changing the features changes
/// <see cref="ModelId"/>, which forces a reindex.
/// </remarks>
public sealed class HashingEmbedder : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The provider name recorded by the search index.</summary>
    public const string ProviderName = "hashing";

    /// <summary>The default number of dimensions.</summary>
    public const int DefaultDimensions = 256;

    // Fragments are many and individually weak evidence; they should refine word matches, not outvote them.
    private const float CharGramWeight = 0.35f;
    private const float BigramWeight = 0.7f;

    // Batches smaller than this embed on the calling thread (a query, a small fetch); larger ones in partitions.
    private const int ParallelThreshold = 64;
    private const int PartitionSize = 32;

    [ThreadStatic]
    private static Dictionary<ulong, (int Count, float Weight)>? _threadCounts;

    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>Creates the embedder.</summary>
    /// <param name="dimensions">Number of hash buckets (vector length).</param>
    /// <param name="includeCharTrigrams">Also hash character 3-grams of each word, so inflections overlap.</param>
    public HashingEmbedder(int dimensions = DefaultDimensions, bool includeCharTrigrams = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 8);
        Dimensions = dimensions;
        IncludeCharTrigrams = includeCharTrigrams;
        ModelId = includeCharTrigrams ? "hashing-v1" : "hashing-v1-words";
        _metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, ModelId, dimensions);
    }

    /// <summary>The embedder name to record in an index (<c>hashing</c>).</summary>
    public string Name { get; } = ProviderName;

    /// <summary>Vector length.</summary>
    public int Dimensions { get; }

    /// <summary>Identifies the feature set; it changes whenever vectors would.</summary>
    public string ModelId { get; }

    /// <summary>Whether word character 3-grams are hashed too.</summary>
    public bool IncludeCharTrigrams { get; }

    /// <inheritdoc/>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        var vectors = new float[texts.Count][];
        if (texts.Count < ParallelThreshold)
        {
            for (var i = 0; i < texts.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                vectors[i] = Embed(texts[i]);
            }
        }
        else
        {
            // An indexing batch is thousands of independent texts: use every core (each vector is a pure function of
            // its text, so the result does not depend on the partitioning).
            var parallel = new ParallelOptions { CancellationToken = cancellationToken };
            Parallel.For(0, (texts.Count + PartitionSize - 1) / PartitionSize, parallel, p =>
            {
                for (var i = p * PartitionSize; i < Math.Min(texts.Count, (p + 1) * PartitionSize); i++)
                {
                    vectors[i] = Embed(texts[i]);
                }
            });
        }

        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Length);
        foreach (var vector in vectors)
        {
            result.Add(new Embedding<float>(vector) { ModelId = ModelId });
        }

        return Task.FromResult(result);
    }

    /// <summary>Embeds one text synchronously.</summary>
    public float[] Embed(string? text)
    {
        var vector = new float[Dimensions];
        if (string.IsNullOrWhiteSpace(text))
        {
            return vector;
        }

        var words = Tokenize(text);
        // Counted per distinct feature (64-bit hash) before bucketing, so sublinear tf applies to features, not to
        // whatever happened to collide in a bucket. One map per thread, cleared per text: a cleared Dictionary keeps
        // its capacity and enumerates in insertion order again, so the sums below run in the same order as with a
        // new map (same floats), without growing a map per chunk.
        var counts = _threadCounts ??= new Dictionary<ulong, (int Count, float Weight)>(1024);
        counts.Clear();
        for (var i = 0; i < words.Count; i++)
        {
            Count(counts, Hash('w', words[i], null), 1f);
            if (i + 1 < words.Count)
            {
                Count(counts, Hash('b', words[i], words[i + 1]), BigramWeight);
            }

            if (IncludeCharTrigrams && words[i].Length > 3)
            {
                AddCharTrigrams(counts, words[i]);
            }
        }

        foreach (var (hash, (count, weight)) in counts)
        {
            var bucket = (int)((uint)hash % (uint)Dimensions);
            var sign = (hash >> 63) == 0 ? 1f : -1f;
            vector[bucket] += sign * weight * (1f + MathF.Log(count));
        }

        if (counts.Count > 16 * 1024)
        {
            _threadCounts = null; // one very long text should not pin a large map to the thread
        }

        var norm = MathF.Sqrt(TensorPrimitives.SumOfSquares<float>(vector));
        if (norm > 0)
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }

        return vector;
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return _metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // Nothing to release: the embedder holds no native or pooled resources.
    }

    /// <summary>Lower-cased runs of letters and digits (the same notion of a word as FTS5's unicode61 tokenizer).</summary>
    internal static List<string> Tokenize(string text)
    {
        var words = new List<string>();
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var isWordChar = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (isWordChar && start < 0)
            {
                start = i;
            }
            else if (!isWordChar && start >= 0)
            {
                // Lower-cased straight into the new string (the same invariant casing as string.ToLowerInvariant).
                words.Add(string.Create(i - start, (text, start), static (span, word) => word.text.AsSpan(word.start, span.Length).ToLowerInvariant(span)));
                start = -1;
            }
        }

        return words;
    }

    private static void Count(Dictionary<ulong, (int Count, float Weight)> counts, ulong hash, float weight)
    {
        counts[hash] = counts.TryGetValue(hash, out var existing) ? (existing.Count + 1, weight) : (1, weight);
    }

    private static void AddCharTrigrams(Dictionary<ulong, (int Count, float Weight)> counts, string word)
    {
        // Boundary markers make prefixes and suffixes distinct features ("<ac" vs "acm").
        Span<char> padded = word.Length <= 62 ? stackalloc char[word.Length + 2] : new char[word.Length + 2];
        padded[0] = '<';
        word.AsSpan().CopyTo(padded[1..]);
        padded[^1] = '>';
        for (var i = 0; i + 3 <= padded.Length; i++)
        {
            Count(counts, Hash('c', padded.Slice(i, 3), default), CharGramWeight);
        }
    }

    private static ulong Hash(char kind, ReadOnlySpan<char> first, ReadOnlySpan<char> second)
    {
        var hash = FnvOffset;
        hash = Append(hash, [kind, ':']);
        hash = Append(hash, first);
        if (!second.IsEmpty)
        {
            hash = Append(hash, [' ']);
            hash = Append(hash, second);
        }

        return Mix(hash);
    }

    private static ulong Hash(char kind, string first, string? second) => Hash(kind, first.AsSpan(), second.AsSpan());

    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    private static ulong Append(ulong hash, ReadOnlySpan<char> text)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            var length = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < length; i++)
            {
                hash = (hash ^ utf8[i]) * FnvPrime;
            }
        }

        return hash;
    }

    // FNV's low bits avalanche poorly for short keys; a final mix spreads them before the modulo and the sign bit.
    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53UL;
        x ^= x >> 33;
        return x;
    }
}
