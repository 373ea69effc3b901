namespace FinNews.Core.Search;

/// <summary>An id with its fused score.</summary>
/// <param name="Id">The ranked item.</param>
/// <param name="Score">Sum over rankings of <c>1 / (k + rank)</c>, rank counted from 1.</param>
public readonly record struct FusedRank(string Id, double Score);

/// <summary>
/// Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009): combines rankings using only positions, so BM25
/// scores and cosine similarities never have to be put on one scale.
/// </summary>
public static class ReciprocalRankFusion
{
    /// <summary>The constant from the original paper; it damps the weight of the very top ranks.</summary>
    public const int DefaultK = 60;

    /// <summary>Fuses rankings (best first) into one list, best first.</summary>
    /// <param name="rankings">Each list is one ranking of ids, best first; a repeated id counts at its first position.</param>
    /// <param name="k">Smoothing constant, must be positive.</param>
    /// <returns>Every id that appears in any ranking, by descending fused score; ties keep first-seen order.</returns>
    public static IReadOnlyList<FusedRank> Fuse(IEnumerable<IReadOnlyList<string>> rankings, int k = DefaultK)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        return Fuse(rankings.Select(r => (r, 1.0)), k);
    }

    /// <summary>Weighted fusion: each ranking contributes <c>weight / (k + rank)</c>.</summary>
    /// <param name="rankings">Each list is one ranking of ids, best first, with its (non-negative) weight.</param>
    /// <param name="k">Smoothing constant, must be positive.</param>
    /// <returns>Every id that appears in a ranking of positive weight, by descending fused score; ties keep first-seen order.</returns>
    public static IReadOnlyList<FusedRank> Fuse(IEnumerable<(IReadOnlyList<string> Ranking, double Weight)> rankings, int k = DefaultK)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(k, 0);

        var scores = new Dictionary<string, (double Score, int FirstSeen)>(StringComparer.Ordinal);
        var seenInList = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (ranking, weight) in rankings)
        {
            ArgumentNullException.ThrowIfNull(ranking, nameof(rankings));
            if (!(weight >= 0) || double.IsInfinity(weight))
            {
                throw new ArgumentOutOfRangeException(nameof(rankings), weight, "weights must be finite and non-negative");
            }

            if (weight == 0)
            {
                continue;
            }

            seenInList.Clear();
            for (var i = 0; i < ranking.Count; i++)
            {
                var id = ranking[i];
                if (!seenInList.Add(id))
                {
                    continue;
                }

                var contribution = weight / (k + i + 1);
                scores[id] = scores.TryGetValue(id, out var existing)
                    ? (existing.Score + contribution, existing.FirstSeen)
                    : (contribution, scores.Count);
            }
        }

        return scores
            .OrderByDescending(pair => pair.Value.Score)
            .ThenBy(pair => pair.Value.FirstSeen)
            .Select(pair => new FusedRank(pair.Key, pair.Value.Score))
            .ToList();
    }
}
