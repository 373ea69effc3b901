using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace FinNews.Core.Search;

/// <summary>
/// Sentence embeddings from pretrained GloVe word vectors with smooth inverse frequency weighting (Arora, Liang and
/// Ma, 2017): the mean of <c>a / (a + p(w))</c>-weighted word vectors, L2-normalized.
/// </summary>
/// <remarks>
/// The installed package ships no word counts, only words in frequency order, so <c>p(w)</c> is Zipf's law over the
/// rank: <c>p(r) = 1 / ((r + 1) · H_N)</c>, with <c>H_N</c> the N-th harmonic number. Words are the lower-cased letter and
/// digit runs the rest of the search code uses; unknown words are skipped; a text with no known word embeds to the
/// zero vector (which the index treats as "no vector match"). The SIF paper's common-component removal is not applied:
/// it needs a principal component fitted on a corpus of sentence embeddings, which a per-query embedder does not have.
/// </remarks>
public sealed class GloveEmbedder : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The provider name recorded by the search index.</summary>
    public const string ProviderName = "glove";

    /// <summary>The SIF smoothing constant the paper recommends.</summary>
    public const double DefaultSifA = 1e-3;

    private readonly GloveVectors _vectors;
    private readonly float[] _weights;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>Creates the embedder over loaded vectors.</summary>
    /// <param name="vectors">Word vectors, most frequent word first.</param>
    /// <param name="sifA">SIF constant <c>a</c>; 0 turns weighting off (plain mean).</param>
    public GloveEmbedder(GloveVectors vectors, double sifA = DefaultSifA)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfNegative(sifA);
        _vectors = vectors;
        SifA = sifA;
        _weights = SifWeights(vectors.Count, sifA);
        ModelId = $"glove-{vectors.Dimensions}d-sif";
        _metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, ModelId, vectors.Dimensions);
    }

    /// <summary>The SIF constant in use.</summary>
    public double SifA { get; }

    /// <summary>Vector length.</summary>
    public int Dimensions => _vectors.Dimensions;

    /// <summary>Identifies the vectors and weighting.</summary>
    public string ModelId { get; }

    /// <summary>Loads a vector file written by <see cref="GloveInstaller"/> (e.g. <c>{dataDir}/models/glove-100d.bin</c>).</summary>
    public static GloveEmbedder Load(string path, double sifA = DefaultSifA) => new(GloveVectors.Load(path), sifA);

    /// <summary>The SIF weight of the word at each rank under a Zipf distribution.</summary>
    internal static float[] SifWeights(int count, double a)
    {
        var weights = new float[count];
        if (a == 0)
        {
            Array.Fill(weights, 1f);
            return weights;
        }

        var harmonic = 0.0;
        for (var r = 1; r <= count; r++)
        {
            harmonic += 1.0 / r;
        }

        for (var r = 0; r < count; r++)
        {
            var p = 1.0 / ((r + 1) * harmonic);
            weights[r] = (float)(a / (a + p));
        }

        return weights;
    }

    /// <inheritdoc/>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result.Add(new Embedding<float>(Embed(value)) { ModelId = ModelId });
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

        var known = 0;
        foreach (var word in HashingEmbedder.Tokenize(text))
        {
            var rank = _vectors.RankOf(word);
            if (rank < 0)
            {
                continue;
            }

            TensorPrimitives.MultiplyAdd(_vectors.Vector(rank), _weights[rank], vector, vector);
            known++;
        }

        if (known == 0)
        {
            return vector;
        }

        // The mean's 1/n does not survive normalization, so only the norm matters.
        var norm = TensorPrimitives.Norm<float>(vector);
        if (norm > 0f && float.IsFinite(norm))
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
        // Nothing to release: the vectors are managed arrays.
    }
}
