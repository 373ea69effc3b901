using FinNews.Core.Feeds;
using FinNews.Core.Search;
using Microsoft.Extensions.AI;

namespace FinNews.Tests.Search;

public sealed class SqliteSearchIndexTests : IAsyncLifetime, IDisposable
{
    private static readonly IReadOnlyList<Article> Corpus = SearchTestData.Corpus();

    private readonly TempDatabase _database = new();
    private readonly SqliteSearchIndex _index;

    public SqliteSearchIndexTests()
    {
        _index = _database.CreateIndex();
    }

    public async Task InitializeAsync()
    {
        await _index.InitializeAsync();
        await _index.IndexAsync(Corpus);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _index.Dispose();
        _database.Dispose();
    }

    [Fact]
    public async Task Indexing_twice_does_not_duplicate_chunks()
    {
        var expected = Corpus.Sum(a => Chunker.Chunk(a).Count);
        (await _index.CountAsync()).Should().Be(expected);

        await _index.IndexAsync(Corpus);
        await _index.IndexAsync([Corpus[0], Corpus[0]]);

        (await _index.CountAsync()).Should().Be(expected);
        var hits = await _index.SearchAsync(new SearchQuery("Acme earnings", SearchMode.Vector, Limit: 50));
        hits.Select(h => h.ArticleId).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Reindexing_an_article_replaces_its_old_text_in_every_mode()
    {
        var edited = Corpus[3] with { Summary = "Freight costs eased.", Body = "" };
        await _index.IndexAsync([edited]);

        foreach (var mode in Enum.GetValues<SearchMode>())
        {
            var hits = await _index.SearchAsync(new SearchQuery("zugzwang", mode));
            hits.Should().NotContain(h => h.Text.Contains("zugzwang", StringComparison.Ordinal), $"mode {mode}");
        }

        // A hit's text is read from the store, so a stale lexical document would still show the new text: the word
        // must match nothing at all, and the new words must match the edited article once.
        (await _index.SearchAsync(new SearchQuery("zugzwang", SearchMode.Lexical))).Should().BeEmpty();
        (await _index.SearchAsync(new SearchQuery("freight eased", SearchMode.Lexical))).Select(h => h.ChunkId).Should().Equal("a4#0");
    }

    [Fact]
    public async Task Lexical_finds_the_article_with_the_rare_word()
    {
        var hits = await _index.SearchAsync(new SearchQuery("zugzwang", SearchMode.Lexical));

        hits.Should().ContainSingle();
        hits[0].ArticleId.Should().Be("a4");
        hits[0].ChunkId.Should().Be("a4#0");
        hits[0].Text.Should().Contain("zugzwang");
    }

    [Fact]
    public async Task Lexical_matches_stems()
    {
        var hits = await _index.SearchAsync(new SearchQuery("unveiling accelerators", SearchMode.Lexical));

        hits.Select(h => h.ArticleId).Should().Equal("a2");
    }

    [Fact]
    public async Task Vector_finds_paraphrase_overlap()
    {
        var hits = await _index.SearchAsync(new SearchQuery("Fed keeps rate unchanged", SearchMode.Vector));

        hits.Should().NotBeEmpty();
        hits[0].ArticleId.Should().Be("a3");
        hits.Should().BeInDescendingOrder(h => h.Score);
    }

    [Fact]
    public async Task Hybrid_ranks_the_article_that_leads_both_lists_first()
    {
        var query = "Novalux accelerator chip";
        var lexical = await _index.SearchAsync(new SearchQuery(query, SearchMode.Lexical));
        var vector = await _index.SearchAsync(new SearchQuery(query, SearchMode.Vector));
        var hybrid = await _index.SearchAsync(new SearchQuery(query, SearchMode.Hybrid));

        lexical[0].ArticleId.Should().Be("a2");
        vector[0].ArticleId.Should().Be("a2");
        hybrid[0].ArticleId.Should().Be("a2");
        hybrid[0].Score.Should().BeApproximately(1.0, 1e-9, "default convex fusion: top of both lists normalizes to 1 on each side");
        hybrid.Select(h => h.ArticleId).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Limit_caps_articles_not_chunks()
    {
        var hits = await _index.SearchAsync(new SearchQuery("factory capacity Acme Novalux", SearchMode.Hybrid, Limit: 2));

        hits.Should().HaveCount(2);
        hits.Select(h => h.ArticleId).Should().OnlyHaveUniqueItems();
        hits[0].ArticleId.Should().Be("a5");
    }

    [Theory]
    [InlineData(SearchMode.Lexical)]
    [InlineData(SearchMode.Vector)]
    [InlineData(SearchMode.Hybrid)]
    public async Task Ticker_filter_keeps_only_tagged_articles(SearchMode mode)
    {
        var hits = await _index.SearchAsync(new SearchQuery("Acme earnings factory", mode, Limit: 20, Tickers: ["nvlx"]));

        hits.Select(h => h.ArticleId).Should().NotBeEmpty().And.OnlyContain(id => id == "a2" || id == "a5");
    }

    [Theory]
    [InlineData(SearchMode.Lexical)]
    [InlineData(SearchMode.Vector)]
    [InlineData(SearchMode.Hybrid)]
    public async Task Source_filter_keeps_only_those_feeds(SearchMode mode)
    {
        var hits = await _index.SearchAsync(new SearchQuery("Acme Novalux freight", mode, Limit: 20, Sources: ["reuters", "ft"]));

        hits.Select(h => h.ArticleId).Should().NotBeEmpty().And.OnlyContain(id => id == "a1" || id == "a3" || id == "a4");
    }

    [Theory]
    [InlineData(SearchMode.Lexical)]
    [InlineData(SearchMode.Vector)]
    [InlineData(SearchMode.Hybrid)]
    public async Task Since_is_inclusive_and_until_is_exclusive(SearchMode mode)
    {
        var novalux = Corpus[1].PublishedAt;

        var until = await _index.SearchAsync(new SearchQuery("Novalux chip", mode, Limit: 20, Until: novalux));
        var since = await _index.SearchAsync(new SearchQuery("Novalux chip", mode, Limit: 20, Since: novalux, Until: novalux.AddDays(1)));

        until.Select(h => h.ArticleId).Should().BeSubsetOf(["a1"]);
        since.Select(h => h.ArticleId).Should().Equal("a2");
    }

    [Theory]
    [InlineData(SearchMode.Lexical)]
    [InlineData(SearchMode.Vector)]
    [InlineData(SearchMode.Hybrid)]
    public async Task Filters_that_match_nothing_return_nothing(SearchMode mode)
    {
        var hits = await _index.SearchAsync(new SearchQuery("Acme", mode, Tickers: ["NOPE"], Sources: ["reuters"]));

        hits.Should().BeEmpty();
    }

    [Theory]
    [InlineData("AT&T \"unbalanced")]
    [InlineData("NOT")]
    [InlineData("*")]
    [InlineData("\"")]
    [InlineData("OR AND NOT")]
    [InlineData("text:acme")]
    [InlineData("NEAR(acme earnings, 2)")]
    [InlineData("acme*")]
    [InlineData("^acme -earnings +x")]
    [InlineData("'; DROP TABLE search_chunks; --")]
    [InlineData("{text} : ( ) [ ]")]
    [InlineData("")]
    [InlineData("\0\ud800")]
    public async Task Hostile_queries_do_not_throw(string text)
    {
        var before = await _index.CountAsync();

        foreach (var mode in Enum.GetValues<SearchMode>())
        {
            var act = () => _index.SearchAsync(new SearchQuery(text, mode));
            await act.Should().NotThrowAsync($"mode {mode}");
        }

        (await _index.CountAsync()).Should().Be(before);
    }

    [Fact]
    public async Task A_different_embedder_is_refused_with_the_reindex_command()
    {
        using var glove = _database.CreateIndex(dimensions: 100, name: "glove");

        var act = () => glove.InitializeAsync();

        (await act.Should().ThrowAsync<InvalidOperationException>()).WithMessage(
            "search index was built with embedder 'hashing' (256 dims) but 'glove' (100 dims) is configured; run `finnews reindex`");
    }

    [Fact]
    public async Task Clear_empties_the_index_and_lets_a_new_embedder_take_over()
    {
        using var glove = _database.CreateIndex(dimensions: 100, name: "glove");

        await glove.ClearAsync();
        await glove.InitializeAsync();
        await glove.IndexAsync([Corpus[0]]);

        (await glove.CountAsync()).Should().Be(1);
        (await glove.SearchAsync(new SearchQuery("zugzwang", SearchMode.Lexical))).Should().BeEmpty();
        (await glove.SearchAsync(new SearchQuery("Acme earnings"))).Select(h => h.ArticleId).Should().Equal("a1");
    }

    [Fact]
    public async Task A_search_sees_writes_made_by_another_instance()
    {
        (await _index.SearchAsync(new SearchQuery("lithium mine", SearchMode.Vector))).Should().NotContain(h => h.ArticleId == "b1");

        using (var other = _database.CreateIndex())
        {
            await other.IndexAsync([SearchTestData.Article("b1", "Lithium mine opens in Chile", feedId: "ft")]);
        }

        var hits = await _index.SearchAsync(new SearchQuery("lithium mine", SearchMode.Vector));
        hits[0].ArticleId.Should().Be("b1");
    }

    [Fact]
    public async Task Vectors_are_normalized_by_the_index_so_scores_are_cosines()
    {
        using var database = new TempDatabase();
        using var index = new SqliteSearchIndex(database.ConnectionString, new ScaledEmbedder(), "scaled");
        await index.IndexAsync([Corpus[2]]);

        var hits = await index.SearchAsync(new SearchQuery(Chunker.Chunk(Corpus[2])[0].Text, SearchMode.Vector));

        hits.Should().ContainSingle().Which.Score.Should().BeApproximately(1.0, 1e-5);
    }

    /// <summary>An embedder whose vectors are not unit length, as some providers' are not.</summary>
    private sealed class ScaledEmbedder : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly HashingEmbedder _inner = new(dimensions: 32);

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(
                values.Select(v => new Embedding<float>(_inner.Embed(v).Select(x => x * 7f).ToArray()))));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose() => _inner.Dispose();
    }
}
