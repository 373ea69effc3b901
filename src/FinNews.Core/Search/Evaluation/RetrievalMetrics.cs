namespace FinNews.Core.Search.Evaluation;

/// <summary>
/// Standard ranked-retrieval metrics, computed as trec_eval / pytrec_eval do (the numbers BEIR publishes): graded
/// gains, <c>log2(rank + 1)</c> discounts, the ideal ranking built from all judged-relevant documents.
/// </summary>
public static class RetrievalMetrics
{
    /// <summary>nDCG@k: <c>Σ rel_i / log2(i + 1)</c> over the top k, divided by the same sum for the ideal ordering.</summary>
    /// <param name="ranking">Retrieved document ids, best first (duplicates count at their first position).</param>
    /// <param name="judgments">Document id → relevance grade; grades ≤ 0 are not relevant.</param>
    /// <param name="k">Cut-off.</param>
    /// <returns>Between 0 and 1; 0 when nothing is relevant.</returns>
    public static double NdcgAt(IReadOnlyList<string> ranking, IReadOnlyDictionary<string, int> judgments, int k)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(judgments);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var dcg = 0.0;
        var rank = 0;
        foreach (var id in Distinct(ranking))
        {
            if (++rank > k)
            {
                break;
            }

            if (judgments.TryGetValue(id, out var grade) && grade > 0)
            {
                dcg += grade / Math.Log2(rank + 1);
            }
        }

        var ideal = 0.0;
        var i = 0;
        foreach (var grade in judgments.Values.Where(g => g > 0).OrderByDescending(g => g).Take(k))
        {
            ideal += grade / Math.Log2(++i + 1);
        }

        return ideal > 0 ? dcg / ideal : 0.0;
    }

    /// <summary>Recall@k: the share of relevant documents found in the top k.</summary>
    public static double RecallAt(IReadOnlyList<string> ranking, IReadOnlyDictionary<string, int> judgments, int k)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(judgments);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var relevant = judgments.Count(p => p.Value > 0);
        if (relevant == 0)
        {
            return 0.0;
        }

        var found = Distinct(ranking).Take(k).Count(id => judgments.TryGetValue(id, out var grade) && grade > 0);
        return (double)found / relevant;
    }

    /// <summary>MRR@k: 1 / rank of the first relevant document in the top k, else 0.</summary>
    public static double ReciprocalRankAt(IReadOnlyList<string> ranking, IReadOnlyDictionary<string, int> judgments, int k)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(judgments);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var rank = 0;
        foreach (var id in Distinct(ranking).Take(k))
        {
            rank++;
            if (judgments.TryGetValue(id, out var grade) && grade > 0)
            {
                return 1.0 / rank;
            }
        }

        return 0.0;
    }

    /// <summary>The nearest-rank percentile (0-100) of a sample; 0 for an empty sample.</summary>
    public static double Percentile(IReadOnlyList<double> values, double percentile)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        if (values.Count == 0)
        {
            return 0.0;
        }

        var sorted = values.Order().ToArray();
        var index = (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }

    private static IEnumerable<string> Distinct(IReadOnlyList<string> ranking)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ranking)
        {
            if (seen.Add(id))
            {
                yield return id;
            }
        }
    }
}
