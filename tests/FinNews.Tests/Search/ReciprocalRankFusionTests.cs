using FinNews.Core.Search;

namespace FinNews.Tests.Search;

public class ReciprocalRankFusionTests
{
    [Fact]
    public void Scores_are_sums_of_reciprocal_ranks()
    {
        var fused = ReciprocalRankFusion.Fuse([["a", "b", "c"], ["b", "d"]]);

        fused.Select(f => f.Id).Should().Equal("b", "a", "d", "c");
        fused[0].Score.Should().BeApproximately((1.0 / 62) + (1.0 / 61), 1e-12);
        fused[1].Score.Should().BeApproximately(1.0 / 61, 1e-12);
        fused[2].Score.Should().BeApproximately(1.0 / 62, 1e-12);
        fused[3].Score.Should().BeApproximately(1.0 / 63, 1e-12);
    }

    [Fact]
    public void Ties_keep_first_seen_order_and_k_is_honoured()
    {
        var fused = ReciprocalRankFusion.Fuse([["x"], ["y"]], k: 1);

        fused.Should().Equal(new FusedRank("x", 0.5), new FusedRank("y", 0.5));
    }

    [Fact]
    public void A_repeated_id_counts_once_per_ranking()
    {
        var fused = ReciprocalRankFusion.Fuse([["a", "a", "b"]]);

        fused.Select(f => f.Id).Should().Equal("a", "b");
        fused[1].Score.Should().BeApproximately(1.0 / 63, 1e-12);
    }

    [Fact]
    public void K_must_be_positive()
    {
        var act = () => ReciprocalRankFusion.Fuse([["a"]], k: 0);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
