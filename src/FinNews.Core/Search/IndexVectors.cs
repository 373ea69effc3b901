using Microsoft.Extensions.AI;
using System.Numerics.Tensors;

namespace FinNews.Core.Search;

/// <summary>What every <see cref="ISearchIndex"/> does the same way with embeddings and tickers.</summary>
internal static class IndexVectors
{
    /// <summary>The embedder's dimension: from its metadata, else from one probe embedding.</summary>
    public static async Task<int> DimensionsAsync(IEmbeddingGenerator<string, Embedding<float>> embedder, CancellationToken cancellationToken)
    {
        var dimensions = embedder.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelDimensions;
        if (dimensions is > 0)
        {
            return dimensions.Value;
        }

        // Not every generator advertises its size; one probe embedding is the reliable answer.
        var probe = await embedder.GenerateAsync(["dimension probe"], cancellationToken: cancellationToken);
        return probe[0].Vector.Length;
    }

    /// <summary>
    /// A unit-length copy, so a dot product is the cosine whatever the embedder returns and scores stay comparable
    /// across embedders; a vector of the wrong size is an error that names the reindex command.
    /// </summary>
    public static float[] UnitCopy(ReadOnlyMemory<float> vector, int dimensions, string embedderName)
    {
        if (vector.Length != dimensions)
        {
            throw new InvalidOperationException(
                $"embedder '{embedderName}' produced a {vector.Length}-dim vector but the index uses {dimensions} dims; run `finnews reindex`");
        }

        var copy = vector.ToArray();
        var norm = TensorPrimitives.Norm<float>(copy);
        if (norm > 0f && float.IsFinite(norm))
        {
            TensorPrimitives.Divide(copy, norm, copy);
        }

        return copy;
    }

    /// <summary>Upper-case, trimmed, distinct tickers ('|' removed: the SQLite index uses it as a separator).</summary>
    public static List<string> NormalizeTickers(IReadOnlyList<string> tickers) =>
        tickers
            .Select(t => t.Replace("|", string.Empty, StringComparison.Ordinal).Trim().ToUpperInvariant())
            .Where(t => t.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .ToList();
}
