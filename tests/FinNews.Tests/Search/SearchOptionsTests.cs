using FinNews.Core.Search;

namespace FinNews.Tests.Search;

public sealed class SearchOptionsTests
{
    [Fact]
    public void Weighted_rrf_scales_each_ranking()
    {
        var fused = ReciprocalRankFusion.Fuse([((IReadOnlyList<string>)["a", "b"], 1.0), (["b", "a"], 3.0)], k: 1);
        fused.Select(f => f.Id).Should().Equal("b", "a");
        fused[0].Score.Should().BeApproximately((1.0 / 3) + (3.0 / 2), 1e-12);

        var lexicalOnly = ReciprocalRankFusion.Fuse([((IReadOnlyList<string>)["a"], 1.0), (["z"], 0.0)]);
        lexicalOnly.Select(f => f.Id).Should().Equal("a");

        var act = () => ReciprocalRankFusion.Fuse([((IReadOnlyList<string>)["a"], -1.0)]);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Queries_are_analyzed_like_the_documents_stop_words_dropped_and_stemmed()
    {
        using var lexical = new LuceneLexicalIndex(path: null);
        lexical.Terms("The effect of rates on the company's stocks").Should().Equal("effect", "rate", "compani", "stock");
        lexical.Terms("to be or not to be").Should().BeEmpty("every word is an English stop word, as in Elasticsearch's english analyzer");
        lexical.Terms("\"NOT\" OR (x* AND ^y) café").Should().Equal("x", "y", "cafe");
        lexical.Terms(string.Join(' ', Enumerable.Range(0, 100).Select(i => $"w{i}"))).Should().HaveCount(LuceneLexicalIndex.MaxTerms);
    }

    [Fact]
    public void Vector_weight_and_half_life_are_validated()
    {
        var weight = () => new SqliteSearchIndex("Data Source=x.db", new HashingEmbedder(), "hashing", new SqliteSearchIndexOptions { VectorWeight = 1.5 });
        weight.Should().Throw<ArgumentOutOfRangeException>();
        var halfLife = () => new SqliteSearchIndex("Data Source=x.db", new HashingEmbedder(), "hashing", new SqliteSearchIndexOptions { RecencyHalfLife = TimeSpan.Zero });
        halfLife.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Recency_factor_halves_per_half_life_and_ignores_future_dates()
    {
        var day = TimeSpan.FromDays(1).TotalMilliseconds;
        SqliteSearchIndex.RecencyFactor(0, day).Should().Be(1);
        SqliteSearchIndex.RecencyFactor(day, day).Should().BeApproximately(0.5, 1e-12);
        SqliteSearchIndex.RecencyFactor(3 * day, day).Should().BeApproximately(0.125, 1e-12);
        SqliteSearchIndex.RecencyFactor(-day, day).Should().Be(1);
    }

    [Fact]
    public void Mmr_pushes_near_duplicates_down()
    {
        MmrCandidate C(string id, double relevance, params float[] v) => new(id, relevance, v);
        var candidates = new[] { C("a", 0.9, 1, 0), C("a-copy", 0.89, 1, 0.01f), C("b", 0.7, 0, 1) };

        MaximalMarginalRelevance.Select(candidates, 3, lambda: 0.5).Select(c => c.Id).Should().Equal("a", "b", "a-copy");
        MaximalMarginalRelevance.Select(candidates, 3, lambda: 1).Select(c => c.Id).Should().Equal("a", "a-copy", "b");
        MaximalMarginalRelevance.Select(candidates, 1).Select(c => c.Id).Should().Equal("a");
        MaximalMarginalRelevance.Select([], 5).Should().BeEmpty();
    }
}
