using FinNews.Core.Search;

namespace FinNews.Tests.Search;

public sealed class SqliteSearchIndexOptionsTests : IDisposable
{
    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    private SqliteSearchIndex Index(SqliteSearchIndexOptions options) => new(_database.ConnectionString, new HashingEmbedder(), "hashing", options);

    [Fact]
    public async Task Stemming_matches_inflections()
    {
        using var index = Index(SqliteSearchIndexOptions.Default);
        await index.IndexAsync(SearchTestData.Corpus());
        (await index.SearchAsync(new SearchQuery("unveiling", SearchMode.Lexical))).Select(h => h.ArticleId).Should().Contain("a2");
    }

    [Fact]
    public async Task Recency_decay_prefers_newer_articles_in_every_mode()
    {
        var now = SearchTestData.Jan1.AddDays(30);
        var old = SearchTestData.Article("old", "Copper prices climb", "Copper prices climb on supply worries.", publishedAt: now.AddDays(-20));
        var fresh = SearchTestData.Article("new", "Copper prices climb again", "Copper prices climb again on supply worries today.", publishedAt: now.AddDays(-1));

        using var plain = Index(SqliteSearchIndexOptions.Default);
        await plain.IndexAsync([old, fresh]);
        var undecayed = await plain.SearchAsync(new SearchQuery("copper prices climb", SearchMode.Lexical));
        undecayed[0].ArticleId.Should().Be("old", "the shorter chunk wins on BM25 alone");

        // RRF for hybrid: with min-max convex fusion the last of two candidates normalizes to 0, and no decay lifts a 0.
        using var decayed = Index(new SqliteSearchIndexOptions
        {
            RecencyHalfLife = TimeSpan.FromDays(3),
            TimeProvider = new FixedTime(now),
            Fusion = HybridFusion.ReciprocalRank,
            VectorWeight = 0.5,
        });
        foreach (var mode in Enum.GetValues<SearchMode>())
        {
            var hits = await decayed.SearchAsync(new SearchQuery("copper prices climb", mode));
            hits.Select(h => h.ArticleId).Should().Equal(["new", "old"], $"mode {mode}");
        }
    }

    [Fact]
    public async Task Plain_rrf_scores_the_leader_of_both_lists_two_over_sixty_one()
    {
        using var rrf = Index(new SqliteSearchIndexOptions { Fusion = HybridFusion.ReciprocalRank, VectorWeight = 0.5 });
        await rrf.IndexAsync(SearchTestData.Corpus());
        var hybrid = await rrf.SearchAsync(new SearchQuery("Novalux accelerator chip", SearchMode.Hybrid));
        hybrid[0].ArticleId.Should().Be("a2");
        hybrid[0].Score.Should().BeApproximately(2.0 / 61, 1e-9);
    }

    [Theory]
    [InlineData(HybridFusion.ReciprocalRank)]
    [InlineData(HybridFusion.Convex)]
    public async Task Fusion_weight_zero_is_lexical_order_and_one_is_vector_order(HybridFusion fusion)
    {
        // With the relevance floor, a hit lexical search found stays even when its vector is below it (NothingFoundTests).
        using var lexicalOnly = Index(new SqliteSearchIndexOptions { Fusion = fusion, VectorWeight = 0, VectorFloor = 0 });
        await lexicalOnly.IndexAsync(SearchTestData.Corpus());
        using var vectorOnly = Index(new SqliteSearchIndexOptions { Fusion = fusion, VectorWeight = 1, VectorFloor = 0 });

        const string Query = "Acme factory earnings";
        var lexical = await lexicalOnly.SearchAsync(new SearchQuery(Query, SearchMode.Lexical));
        var vector = await lexicalOnly.SearchAsync(new SearchQuery(Query, SearchMode.Vector));
        (await lexicalOnly.SearchAsync(new SearchQuery(Query, SearchMode.Hybrid))).Select(h => h.ArticleId)
            .Should().Equal(lexical.Select(h => h.ArticleId));
        (await vectorOnly.SearchAsync(new SearchQuery(Query, SearchMode.Hybrid))).Select(h => h.ArticleId)
            .Should().Equal(vector.Select(h => h.ArticleId));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
