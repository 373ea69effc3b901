using FinNews.Core.Feeds;
using FinNews.Core.Search;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Tests.Search;

public sealed class SearchIndexerTests
{
    [Fact]
    public async Task Reindex_all_rebuilds_the_index_for_a_new_embedder_from_the_store()
    {
        using var env = TestEnvironment.Create();
        var store = new SqliteStore(env.DatabasePath);
        store.Initialize();
        store.SyncFeeds([new FeedDefinition("f", "F", "https://f.example/rss")]);
        store.CommitFetch("f", [Some.Article("a1", "f"), Some.Article("a2", "f")], null, null, Some.Day);

        using (var hashing = new SqliteSearchIndex(store.ConnectionString, new HashingEmbedder(), "hashing"))
        {
            (await new SearchIndexer(store, hashing, NullLogger<SearchIndexer>.Instance).DrainAsync()).Should().Be(2);
        }

        using var other = new SqliteSearchIndex(store.ConnectionString, new HashingEmbedder(64), "hashing64");
        var act = () => other.InitializeAsync();
        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*finnews reindex*");

        var indexer = new SearchIndexer(store, other, NullLogger<SearchIndexer>.Instance);
        (await indexer.ReindexAllAsync()).Should().Be(2);
        (await other.CountAsync()).Should().BeGreaterThanOrEqualTo(2);
        (await other.SearchAsync(new SearchQuery(Some.Article("a1", "f").Title, SearchMode.Vector))).Should().NotBeEmpty();
        store.UnindexedArticles(10).Should().BeEmpty();
    }
}
