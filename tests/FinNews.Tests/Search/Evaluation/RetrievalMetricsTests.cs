using FinNews.Core.Search.Evaluation;

namespace FinNews.Tests.Search.Evaluation;

public sealed class RetrievalMetricsTests
{
    private static readonly Dictionary<string, int> Judged = new() { ["d1"] = 2, ["d2"] = 1, ["d9"] = 0 };

    [Fact]
    public void Ndcg_uses_graded_gains_and_log2_discounts_like_trec_eval()
    {
        // ranks: d3 (0), d2 (1), d1 (2) → DCG = 1/log2(3) + 2/log2(4); ideal = 2/log2(2) + 1/log2(3)
        var dcg = (1 / Math.Log2(3)) + (2 / Math.Log2(4));
        var ideal = 2 + (1 / Math.Log2(3));
        RetrievalMetrics.NdcgAt(["d3", "d2", "d1"], Judged, 10).Should().BeApproximately(dcg / ideal, 1e-12);
        RetrievalMetrics.NdcgAt(["d1", "d2"], Judged, 10).Should().BeApproximately(1.0, 1e-12);
        RetrievalMetrics.NdcgAt(["d3", "d2", "d1"], Judged, 1).Should().Be(0);
        RetrievalMetrics.NdcgAt(["d9"], Judged, 10).Should().Be(0, "a zero grade is not relevant");
    }

    [Fact]
    public void Ideal_dcg_is_cut_at_k_too()
    {
        var many = Enumerable.Range(0, 20).ToDictionary(i => $"d{i}", _ => 1);
        RetrievalMetrics.NdcgAt(Enumerable.Range(0, 10).Select(i => $"d{i}").ToList(), many, 10).Should().BeApproximately(1.0, 1e-12);
    }

    [Fact]
    public void Recall_and_reciprocal_rank()
    {
        RetrievalMetrics.RecallAt(["x", "d2"], Judged, 100).Should().Be(0.5);
        RetrievalMetrics.RecallAt(["x", "d2", "d1"], Judged, 2).Should().Be(0.5);
        RetrievalMetrics.ReciprocalRankAt(["x", "y", "d2"], Judged, 10).Should().BeApproximately(1.0 / 3, 1e-12);
        RetrievalMetrics.ReciprocalRankAt(["x", "y", "d2"], Judged, 2).Should().Be(0);
        RetrievalMetrics.RecallAt(["d1"], new Dictionary<string, int>(), 10).Should().Be(0);
    }

    [Fact]
    public void Duplicates_count_once_at_their_first_position()
    {
        RetrievalMetrics.ReciprocalRankAt(["x", "x", "d1"], Judged, 2).Should().BeApproximately(0.5, 1e-12);
    }

    [Fact]
    public void Percentile_is_nearest_rank()
    {
        var values = Enumerable.Range(1, 100).Select(i => (double)i).Reverse().ToList();
        RetrievalMetrics.Percentile(values, 50).Should().Be(50);
        RetrievalMetrics.Percentile(values, 95).Should().Be(95);
        RetrievalMetrics.Percentile([7.0], 95).Should().Be(7);
        RetrievalMetrics.Percentile([], 50).Should().Be(0);
    }
}
