using FinNews.Core.Feeds;
using FinNews.Core.Search;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Search.Elasticsearch;
using FinNews.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Tests.Search;

/// <summary>`finnews reindex --to`: copying the store into another backend, resuming after a crash, verifying counts.</summary>
public sealed class SearchIndexCopierTests
{
    private static SqliteStore Store(TestEnvironment env, int articles)
    {
        var store = new SqliteStore(env.DatabasePath);
        store.Initialize();
        store.SyncFeeds([new FeedDefinition("f", "F", "https://f.example/rss")]);
        var batch = Enumerable.Range(0, articles)
            .Select(i => Some.Article($"a{i:D3}", "f", published: Some.Day.AddMinutes(-i)) with { FirstSeenAt = Some.Day.AddSeconds(i % 7) })
            .ToList();
        store.CommitFetch("f", batch, null, null, Some.Day);
        return store;
    }

    private static SearchIndexCopier Copier(SqliteStore store, ISearchIndex target, TestEnvironment env) =>
        new(store, target, "test target", HashingEmbedder.ProviderName, new HashingEmbedder(64),
            Path.Combine(env.DataDirectory, "reindex.checkpoint.json"), env.Clock, NullLogger.Instance);

    [Fact]
    public async Task A_copy_that_crashes_resumes_from_its_checkpoint_and_verifies_the_counts()
    {
        using var env = TestEnvironment.Create();
        var store = Store(env, 23);
        using var target = new SqliteSearchIndex(store.ConnectionString, new HashingEmbedder(64), HashingEmbedder.ProviderName);
        var crashing = new CrashAfter(target, batches: 2);

        var crash = () => Copier(store, crashing, env).CopyAsync(batchSize: 5);
        await crash.Should().ThrowAsync<IOException>();
        var checkpoint = SearchIndexCopier.ReadCheckpoint(Path.Combine(env.DataDirectory, "reindex.checkpoint.json"))!;
        checkpoint.Articles.Should().Be(10);
        checkpoint.Completed.Should().BeFalse();

        var counting = new CrashAfter(target, batches: int.MaxValue);
        var report = await Copier(store, counting, env).CopyAsync(batchSize: 5);

        report.Resumed.Should().BeTrue();
        report.Copied.Should().Be(13, "the two batches written before the crash are not sent again");
        counting.Cleared.Should().BeFalse("a resumed copy keeps what was written");
        report.Verified.Should().BeTrue();
        report.ActualChunks.Should().Be(23);
        report.Checkpoint.Completed.Should().BeTrue();
        CopyReportText.Summary(report, "sqlite", TimeSpan.FromSeconds(1)).Should().Contain("Verified: 23 chunks");
    }

    [Fact]
    public async Task Running_again_after_a_completed_copy_copies_only_articles_that_arrived_since()
    {
        using var env = TestEnvironment.Create();
        var store = Store(env, 12);
        using var target = new SqliteSearchIndex(store.ConnectionString, new HashingEmbedder(64), HashingEmbedder.ProviderName);
        (await Copier(store, target, env).CopyAsync(batchSize: 4)).Verified.Should().BeTrue();

        store.CommitFetch("f", [Some.Article("late", "f") with { FirstSeenAt = Some.Day.AddHours(1) }], null, null, Some.Day.AddHours(1));
        var second = await Copier(store, target, env).CopyAsync(batchSize: 4);

        second.Copied.Should().Be(1);
        second.Verified.Should().BeTrue();
        second.ActualChunks.Should().Be(13);
    }

    [Fact]
    public async Task A_target_missing_chunks_fails_verification()
    {
        using var env = TestEnvironment.Create();
        var store = Store(env, 6);
        using var target = new SqliteSearchIndex(store.ConnectionString, new HashingEmbedder(64), HashingEmbedder.ProviderName);
        await Copier(store, target, env).CopyAsync(batchSize: 4);
        await target.DeleteAsync(["a001"]);

        var report = await Copier(store, target, env).CopyAsync(batchSize: 4);

        report.Verified.Should().BeFalse();
        CopyReportText.Summary(report, "sqlite", TimeSpan.Zero).Should().Contain("Count mismatch: the target holds 5 chunks, the copied articles make 6");
    }

    [Fact]
    public async Task The_store_is_copied_into_elasticsearch_through_the_client()
    {
        using var env = TestEnvironment.Create();
        var store = Store(env, 9);
        await using var es = await EsHarness.StartAsync();

        var report = await Copier(store, es.Index, env).CopyAsync(batchSize: 4);

        report.Verified.Should().BeTrue();
        es.Cluster.Documents.Should().HaveCount(9);
        es.Bulks.Should().HaveCount(3);
        es.Server.Requests.Should().Contain(r => r.Path.EndsWith("/_refresh", StringComparison.Ordinal), "the count is taken after a refresh");
    }

    /// <summary>A target whose writes fail after some batches, like a process killed mid-copy.</summary>
    private sealed class CrashAfter(ISearchIndex inner, int batches) : ISearchIndex
    {
        private int _written;

        public bool Cleared { get; private set; }

        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public async Task IndexAsync(IReadOnlyList<Article> articles, CancellationToken cancellationToken = default)
        {
            if (_written++ >= batches)
            {
                throw new IOException("simulated crash");
            }

            await inner.IndexAsync(articles, cancellationToken);
        }

        public Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) => inner.SearchAsync(query, cancellationToken);

        public Task DeleteAsync(IReadOnlyCollection<string> articleIds, CancellationToken cancellationToken = default) => inner.DeleteAsync(articleIds, cancellationToken);

        public Task ClearAsync(CancellationToken cancellationToken = default)
        {
            Cleared = true;
            return inner.ClearAsync(cancellationToken);
        }

        public Task<long> CountAsync(CancellationToken cancellationToken = default) => inner.CountAsync(cancellationToken);
    }
}
