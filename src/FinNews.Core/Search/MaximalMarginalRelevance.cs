using System.Numerics.Tensors;

namespace FinNews.Core.Search;

/// <summary>A candidate for diversification: an id, its relevance score and its embedding.</summary>
/// <param name="Id">Item id (e.g. an article id).</param>
/// <param name="Relevance">Relevance to the query, higher is better (e.g. the cosine to the query).</param>
/// <param name="Embedding">The item's vector; compared by cosine, so it need not be normalized.</param>
public sealed record MmrCandidate(string Id, double Relevance, ReadOnlyMemory<float> Embedding);

/// <summary>
/// Maximal marginal relevance (Carbonell and Goldstein, 1998): greedily picks the candidate maximizing
/// <c>λ·relevance − (1−λ)·max cosine to anything already picked</c>, so near-duplicates of a chosen item sink.
/// </summary>
public static class MaximalMarginalRelevance
{
    /// <summary>Re-ranks <paramref name="candidates"/> and returns up to <paramref name="k"/> of them in pick order.</summary>
    /// <param name="candidates">Candidates, usually the top results of a search.</param>
    /// <param name="k">How many to pick.</param>
    /// <param name="lambda">1 keeps pure relevance order; 0 maximizes diversity only. 0.5-0.7 is usual.</param>
    /// <remarks>Relevance is min-max normalized over the candidates first, so it is on the cosine's 0-1 scale; ties keep input order.</remarks>
    public static IReadOnlyList<MmrCandidate> Select(IReadOnlyList<MmrCandidate> candidates, int k, double lambda = 0.7)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (!(lambda >= 0 && lambda <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "must be between 0 and 1");
        }

        var count = candidates.Count;
        var picked = new List<MmrCandidate>(Math.Min(k, count));
        if (count == 0 || k == 0)
        {
            return picked;
        }

        var max = candidates.Max(c => c.Relevance);
        var min = candidates.Min(c => c.Relevance);
        var span = max - min;
        var relevance = candidates.Select(c => span > 0 ? (c.Relevance - min) / span : 1.0).ToArray();
        var redundancy = new double[count]; // max similarity to anything picked so far
        var taken = new bool[count];
        while (picked.Count < k && picked.Count < count)
        {
            var best = -1;
            var bestScore = double.NegativeInfinity;
            for (var i = 0; i < count; i++)
            {
                if (taken[i])
                {
                    continue;
                }

                var score = (lambda * relevance[i]) - ((1 - lambda) * redundancy[i]);
                if (score > bestScore)
                {
                    best = i;
                    bestScore = score;
                }
            }

            taken[best] = true;
            picked.Add(candidates[best]);
            var chosen = candidates[best].Embedding.Span;
            for (var i = 0; i < count; i++)
            {
                if (!taken[i])
                {
                    redundancy[i] = Math.Max(redundancy[i], Cosine(chosen, candidates[i].Embedding.Span));
                }
            }
        }

        return picked;
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length || a.IsEmpty)
        {
            return 0;
        }

        var similarity = TensorPrimitives.CosineSimilarity(a, b);
        return float.IsFinite(similarity) ? similarity : 0;
    }
}
