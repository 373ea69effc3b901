using FinNews.Core;
using FinNews.Core.Feeds;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Storage;

public class IngestTests
{
    [Fact]
    public async Task Ingesting_the_samples_twice_stores_every_article_once()
    {
        using var env = TestEnvironment.Create();
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        var store = host.Services.GetRequiredService<SqliteStore>();

        var first = await pipeline.IngestAsync(null, CancellationToken.None);
        var count = store.CountArticles();
        var second = await pipeline.IngestAsync(null, CancellationToken.None);

        first.Where(r => r.FeedId != "broken-wire").Should().OnlyContain(r => r.Error == null);
        count.Should().BeGreaterThan(40);
        second.Sum(r => r.Counts?.Inserted ?? 0).Should().Be(0);
        store.CountArticles().Should().Be(count);
        using var c = new SqliteConnection($"Data Source={env.DatabasePath}");
        c.Open();
        Scalar(c, "SELECT COUNT(*) FROM (SELECT url FROM articles GROUP BY url HAVING COUNT(*) > 1)").Should().Be(0, "no URL is stored twice");
        Scalar(c, "SELECT COUNT(*) FROM articles WHERE indexed = 0").Should().Be(0, "everything ingested was indexed");
    }

    [Fact]
    public async Task A_malformed_feed_is_recorded_with_its_reason_and_the_others_still_ingest()
    {
        using var env = TestEnvironment.Create();
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var results = await host.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        var store = host.Services.GetRequiredService<SqliteStore>();

        var broken = results.Single(r => r.FeedId == "broken-wire");
        broken.Error.Should().NotBeNullOrEmpty();
        var state = store.GetFeedState("broken-wire")!;
        state.ErrorCount.Should().Be(1);
        state.LastError.Should().Be(broken.Error);
        state.LastSuccessAt.Should().BeNull();
        results.Count(r => r.Error is null).Should().Be(results.Count - 1);
    }

    [Fact]
    public async Task The_same_article_syndicated_by_two_outlets_is_stored_once()
    {
        using var env = TestEnvironment.Create();
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        await host.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        using var c = new SqliteConnection($"Data Source={env.DatabasePath}");
        c.Open();
        // Copperline republishes Meridian's Stonegable dividend story with the same link (config/samples/README.md).
        Scalar(c, "SELECT COUNT(*) FROM articles WHERE title LIKE '%Stonegable%' AND feed_id IN ('meridian-wire','copperline-financial') AND url IN (SELECT url FROM articles WHERE feed_id = 'meridian-wire')")
            .Should().Be(1);
    }

    [Fact]
    public void A_fetch_commits_its_items_and_the_feed_state_together_or_not_at_all()
    {
        using var env = TestEnvironment.Create();
        var store = new SqliteStore(env.DatabasePath);
        store.Initialize();
        store.SyncFeeds([new FeedDefinition("f", "F", "https://f.example/rss")]);
        var at = new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);
        var good = Some.Article("a1", "f");
        // A NOT NULL violation on the second item makes the transaction fail midway.
        var bad = Some.Article("a2", "f") with { Title = null! };

        var act = () => store.CommitFetch("f", [good, bad], "\"etag-1\"", null, at);

        act.Should().Throw<SqliteException>();
        store.CountArticles().Should().Be(0, "the first item must not survive a failed fetch");
        store.GetFeedState("f")!.ETag.Should().BeNull("the feed must not be marked fresh without its items");

        store.CommitFetch("f", [good], "\"etag-1\"", null, at).Inserted.Should().Be(1);
        store.GetFeedState("f")!.ETag.Should().Be("\"etag-1\"");
    }

    [Fact]
    public void An_edited_item_updates_in_place_and_is_queued_for_reindexing()
    {
        using var env = TestEnvironment.Create();
        var store = new SqliteStore(env.DatabasePath);
        store.Initialize();
        store.SyncFeeds([new FeedDefinition("f", "F", "https://f.example/rss")]);
        var at = new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);
        store.CommitFetch("f", [Some.Article("a1", "f")], null, null, at);
        store.MarkIndexed(["a1"]);

        var edited = Some.Article("a1", "f") with { Summary = "Corrected: revenue was $2.1bn.", ContentHash = "changed" };
        var counts = store.CommitFetch("f", [edited], null, null, at.AddHours(1));

        counts.Should().Be(new IngestCounts(0, 1, 0));
        store.CountArticles().Should().Be(1);
        store.GetArticle("a1")!.Summary.Should().StartWith("Corrected");
        store.UnindexedArticles(10).Select(a => a.Id).Should().Equal("a1");
    }

    private static long Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return (long)cmd.ExecuteScalar()!;
    }
}
