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
/// The corpus-free variant, removing the top components of the word vectors themselves, is available as
/// <c>removedComponents</c>.
/// </remarks>
public sealed class GloveEmbedder : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The provider name recorded by the search index.</summary>
    public const string ProviderName = "glove";

    /// <summary>The SIF smoothing constant the paper recommends.</summary>
    public const double DefaultSifA = 1e-3;

    /// <summary>
    /// Top principal components removed from the word vectors by default: on BEIR SciFact, vector nDCG@10 goes
    /// 0.217 (none) → 0.277 (1) → 0.289 (2) → 0.286 (3).
    /// </summary>
    public const int DefaultRemovedComponents = 2;

    private readonly GloveVectors _vectors;
    private readonly float[]? _processed;
    private readonly float[] _weights;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>Creates the embedder over loaded vectors.</summary>
    /// <param name="vectors">Word vectors, most frequent word first.</param>
    /// <param name="sifA">SIF constant <c>a</c>; 0 turns weighting off (plain mean).</param>
    /// <param name="removedComponents">
    /// "All-but-the-top" post-processing (Mu and Viswanath, 2018): subtract the mean word vector and this many top
    /// principal components (fitted on the 50,000 most frequent words) from every word vector; 0 leaves the vectors as
    /// shipped. Must be below the dimension count.
    /// </param>
    public GloveEmbedder(GloveVectors vectors, double sifA = DefaultSifA, int removedComponents = DefaultRemovedComponents)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfNegative(sifA);
        ArgumentOutOfRangeException.ThrowIfNegative(removedComponents);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(removedComponents, vectors.Dimensions);
        _vectors = vectors;
        SifA = sifA;
        RemovedComponents = removedComponents;
        _weights = SifWeights(vectors.Count, sifA);
        _processed = removedComponents > 0 ? AllButTheTop(vectors, removedComponents) : null;
        ModelId = removedComponents > 0 ? $"glove-{vectors.Dimensions}d-sif-abtt{removedComponents}" : $"glove-{vectors.Dimensions}d-sif";
        _metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, ModelId, vectors.Dimensions);
    }

    /// <summary>The SIF constant in use.</summary>
    public double SifA { get; }

    /// <summary>Principal components removed from the word vectors (0: none).</summary>
    public int RemovedComponents { get; }

    /// <summary>Vector length.</summary>
    public int Dimensions => _vectors.Dimensions;

    /// <summary>Identifies the vectors and weighting.</summary>
    public string ModelId { get; }

    /// <summary>Loads a vector file written by <see cref="GloveInstaller"/> (e.g. <c>{dataDir}/models/glove-100d.bin</c>).</summary>
    public static GloveEmbedder Load(string path, double sifA = DefaultSifA, int removedComponents = DefaultRemovedComponents) =>
        new(GloveVectors.Load(path), sifA, removedComponents);

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

    /// <summary>Every word vector minus the mean and its projection on the top principal components.</summary>
    internal static float[] AllButTheTop(GloveVectors vectors, int components, int fitWords = 50_000)
    {
        var dims = vectors.Dimensions;
        var n = Math.Min(vectors.Count, fitWords);
        var mean = new double[dims];
        for (var r = 0; r < n; r++)
        {
            var v = vectors.Vector(r);
            for (var d = 0; d < dims; d++)
            {
                mean[d] += v[d] / n;
            }
        }

        var covariance = new double[dims, dims];
        var centered = new double[dims];
        for (var r = 0; r < n; r++)
        {
            var v = vectors.Vector(r);
            for (var d = 0; d < dims; d++)
            {
                centered[d] = v[d] - mean[d];
            }

            for (var i = 0; i < dims; i++)
            {
                for (var j = i; j < dims; j++)
                {
                    covariance[i, j] += centered[i] * centered[j];
                }
            }
        }

        for (var i = 0; i < dims; i++)
        {
            for (var j = 0; j < i; j++)
            {
                covariance[i, j] = covariance[j, i];
            }
        }

        // Power iteration with deflation: plenty for the few dominant components of a 100 × 100 matrix.
        var basis = new List<float[]>(components);
        for (var c = 0; c < components; c++)
        {
            var u = Enumerable.Range(0, dims).Select(i => 1.0 / Math.Sqrt(dims + i)).ToArray();
            for (var iteration = 0; iteration < 500; iteration++)
            {
                var next = new double[dims];
                for (var i = 0; i < dims; i++)
                {
                    for (var j = 0; j < dims; j++)
                    {
                        next[i] += covariance[i, j] * u[j];
                    }
                }

                var norm = Math.Sqrt(next.Sum(x => x * x));
                if (norm == 0)
                {
                    break;
                }

                var change = 0.0;
                for (var i = 0; i < dims; i++)
                {
                    next[i] /= norm;
                    change += Math.Abs(next[i] - u[i]);
                }

                u = next;
                if (change < 1e-10)
                {
                    break;
                }
            }

            // Deflate: C -= λ u uᵀ with λ = uᵀ C u.
            var lambda = 0.0;
            for (var i = 0; i < dims; i++)
            {
                for (var j = 0; j < dims; j++)
                {
                    lambda += u[i] * covariance[i, j] * u[j];
                }
            }

            for (var i = 0; i < dims; i++)
            {
                for (var j = 0; j < dims; j++)
                {
                    covariance[i, j] -= lambda * u[i] * u[j];
                }
            }

            basis.Add(u.Select(x => (float)x).ToArray());
        }

        var meanF = mean.Select(x => (float)x).ToArray();
        var processed = new float[(long)vectors.Count * dims];
        for (var r = 0; r < vectors.Count; r++)
        {
            var target = processed.AsSpan(r * dims, dims);
            TensorPrimitives.Subtract(vectors.Vector(r), meanF, target);
            foreach (var u in basis)
            {
                TensorPrimitives.MultiplyAdd(u, -TensorPrimitives.Dot(target, u), target, target);
            }
        }

        return processed;
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

            var wordVector = _processed is null
                ? _vectors.Vector(rank)
                : new ReadOnlySpan<float>(_processed, rank * Dimensions, Dimensions);
            TensorPrimitives.MultiplyAdd(wordVector, _weights[rank], vector, vector);
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
