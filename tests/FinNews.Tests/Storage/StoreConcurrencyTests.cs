using System.Collections.Concurrent;
using FinNews.Core.Feeds;
using FinNews.Core.Search;
using FinNews.Core.Storage.Postgres;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Feeds;
using FinNews.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace FinNews.Tests.Storage;

/// <summary>
/// Several writers on one database at once, as several worker and web nodes (or a worker and a web process on one
/// machine) run them: each writer is a store instance of its own, with its own connection pool, racing on real threads.
/// Every backend runs the same cases (<see cref="SqliteStoreConcurrencyTests"/>, <see cref="PostgresStoreConcurrencyTests"/>).
/// </summary>
/// <remarks>
/// Where a race depends on timing too fine to hit reliably (an edit or a retention pass landing between the indexer's
/// read and its mark), the index stand-in runs the other writer at exactly that point, so the interleaving is certain.
/// </remarks>
public abstract class StoreConcurrencyTests : IDisposable
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);

    private readonly List<IDisposable> _open = [];

    protected FakeTimeProvider Clock { get; } = new(T0);

    /// <summary>A new store instance (own connection pool) on this test's database, which starts empty.</summary>
    protected abstract (IFeedStore Feeds, IArticleStore Articles) OpenCore();

    protected (IFeedStore Feeds, IArticleStore Articles) Open()
    {
        var store = OpenCore();
        if (store.Feeds is IDisposable d)
        {
            _open.Add(d);
        }

        return store;
    }

    public virtual void Dispose()
    {
        foreach (var d in _open)
        {
            d.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    private protected static Article Story(string id, string? url = null, string? hash = null, DateTimeOffset? published = null) =>
        Some.Article(id, "wire", published: published ?? T0) with { Url = url ?? $"https://wire.example/{id}", ContentHash = hash ?? $"hash-{id}" };

    /// <summary>Runs both actions at once, released together from a barrier on two threads.</summary>
    private static async Task<(T A, T B)> AtOnce<T>(Func<T> a, Func<T> b)
    {
        using var start = new Barrier(2);
        var ta = Task.Factory.StartNew(() => { start.SignalAndWait(); return a(); }, TaskCreationOptions.LongRunning);
        var tb = Task.Factory.StartNew(() => { start.SignalAndWait(); return b(); }, TaskCreationOptions.LongRunning);
        return (await ta, await tb);
    }

    [StorageFact]
    public async Task Two_writers_committing_one_feeds_items_at_once_store_each_article_once_and_lose_no_fetch_state()
    {
        var a = Open();
        var b = Open();
        a.Feeds.SyncFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);
        const int Rounds = 25;
        long inserted = 0, duplicates = 0;
        for (var round = 0; round < Rounds; round++)
        {
            // 30 stories a round. A has 0..19; B has 10..29, plus an item under another id with the URL of each of A's
            // 0..4 and one with the text (content hash) of each of A's 5..9: whoever commits first, each story is stored once.
            var s = Enumerable.Range(0, 30).Select(i => Story($"r{round}-{i}")).ToList();
            var batchA = s.Take(20).ToList();
            var batchB = s.Skip(10)
                .Concat(s.Take(5).Select(x => Story(x.Id + "-same-url", url: x.Url, hash: x.ContentHash + "-b")))
                .Concat(s.Skip(5).Take(5).Select(x => Story(x.Id + "-same-text", hash: x.ContentHash)))
                .ToList();
            var at = T0.AddMinutes(round);
            var (ca, cb) = await AtOnce(
                () => a.Feeds.CommitFetch("wire", batchA, "\"from-a\"", null, at),
                () => b.Feeds.CommitFetch("wire", batchB, "\"from-b\"", null, at.AddSeconds(1)));

            (ca.Inserted + cb.Inserted).Should().Be(30, $"round {round}: each of the 30 stories is stored by exactly one writer");
            (ca.Duplicates + cb.Duplicates).Should().Be(20, $"round {round}: the other 20 items are duplicates of stored ones");
            (ca.Updated + cb.Updated).Should().Be(0);
            inserted += ca.Inserted + cb.Inserted;
            duplicates += ca.Duplicates + cb.Duplicates;
        }

        var articles = a.Articles.ArticlesInWindow(T0.AddDays(-1), T0.AddDays(1), T0.AddDays(1), limit: 100_000);
        articles.Should().HaveCount(30 * Rounds);
        articles.Select(x => x.Url).Should().OnlyHaveUniqueItems("one article per URL");
        articles.Select(x => x.ContentHash).Should().OnlyHaveUniqueItems("one article per text");
        a.Articles.CountArticles().Should().Be(30 * Rounds);
        var state = b.Feeds.GetFeedState("wire")!;
        state.ItemsTotal.Should().Be(inserted, "every writer's insert count reached the feed's total (no increment lost)");
        // Fetch state is the last committed fetch's (a fetch never runs against stale state: each commit updates one row).
        (state.LastSuccessAt, state.ETag).Should().BeOneOf((T0.AddMinutes(Rounds - 1), "\"from-a\""), (T0.AddMinutes(Rounds - 1).AddSeconds(1), "\"from-b\""));
        state.ErrorCount.Should().Be(0);
        duplicates.Should().Be(20L * Rounds);
    }

    [StorageFact]
    public async Task Two_writers_editing_one_article_at_once_keep_one_row_with_one_of_the_texts_queued_for_indexing()
    {
        var a = Open();
        var b = Open();
        a.Feeds.SyncFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);
        for (var round = 0; round < 20; round++)
        {
            var id = $"edit-{round}";
            a.Feeds.CommitFetch("wire", [Story(id)], null, null, T0);
            var indexed = a.Articles.MarkIndexed([(id, $"hash-{id}")]);
            indexed.Should().Be(1);
            var (ca, cb) = await AtOnce(
                () => a.Feeds.CommitFetch("wire", [Story(id, hash: "text-a") with { Title = "Text A" }], null, null, T0.AddMinutes(1)),
                () => b.Feeds.CommitFetch("wire", [Story(id, hash: "text-b") with { Title = "Text B" }], null, null, T0.AddMinutes(1)));

            (ca.Updated + cb.Updated).Should().Be(2, "each writer's text replaced what it found: both are edits, neither an insert");
            var stored = a.Articles.GetArticle(id)!;
            (stored.Title, stored.ContentHash).Should().BeOneOf(("Text A", "text-a"), ("Text B", "text-b"));
            a.Articles.UnindexedArticles(1000).Select(x => x.Id).Should().Contain(id, "an edited article is indexed again");
        }

        a.Articles.CountArticles().Should().Be(20);
    }

    [StorageFact]
    public async Task Two_adds_of_one_feed_id_at_once_give_one_success_and_one_refusal()
    {
        var a = Open();
        var b = Open();
        for (var round = 0; round < 30; round++)
        {
            var id = $"added-{round}";
            var (addedA, addedB) = await AtOnce(
                () => a.Feeds.TryAddFeed(new FeedDefinition(id, "From A", $"https://a.example/{round}.rss"), T0),
                () => b.Feeds.TryAddFeed(new FeedDefinition(id, "From B", $"https://b.example/{round}.rss"), T0.AddSeconds(1)));

            (addedA ^ addedB).Should().BeTrue($"round {round}: exactly one add of '{id}' succeeds (A {addedA}, B {addedB})");
            var stored = a.Feeds.GetFeed(id)!;
            stored.Definition.Name.Should().Be(addedA ? "From A" : "From B", "the refused add changed nothing");
            stored.Origin.Should().Be(FeedOrigin.Added);
        }

        b.Feeds.ListFeeds().Select(f => f.Definition.Id).Should().OnlyHaveUniqueItems().And.HaveCount(30);
    }

    /// <summary>
    /// Index marks and story assignments over the same articles at once, in opposite orders (two drains and a clustering
    /// pass on two nodes): each finishes, neither is chosen as a deadlock victim, and the last assignment holds.
    /// </summary>
    [StorageFact]
    public async Task Index_marks_and_story_assignments_racing_over_the_same_articles_never_deadlock()
    {
        var a = Open();
        var b = Open();
        a.Feeds.SyncFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);
        var stories = Enumerable.Range(0, 300).Select(i => Story($"d{i:D3}")).ToList();
        a.Feeds.CommitFetch("wire", stories, null, null, T0);
        var forward = stories.Select(x => (x.Id, x.ContentHash)).ToList();
        var backward = Enumerable.Reverse(forward).ToList();
        for (var round = 0; round < 20; round++)
        {
            var r = round;
            var marks = r % 2 == 0 ? forward : backward;
            var assignments = (r % 2 == 0 ? backward : forward).Select((x, i) => (x.Id, $"story-{r}-{i % 7}")).ToList();
            var (marked, _) = await AtOnce(
                () => a.Articles.MarkIndexed(marks),
                () => { b.Articles.AssignClusters(assignments); return 0; });
            marked.Should().Be(300);
        }

        a.Articles.ClusterIds(stories.Select(x => x.Id)).Values.Should().OnlyContain(c => c.StartsWith("story-19-", StringComparison.Ordinal));
    }

    [StorageFact]
    public async Task An_edit_committed_while_the_indexer_indexes_the_old_text_is_indexed_in_the_same_drain()
    {
        var writer = Open();
        var indexerSide = Open();
        writer.Feeds.SyncFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);
        writer.Feeds.CommitFetch("wire", [Story("a1"), Story("a2")], null, null, T0);
        var index = new RecordingIndex();
        // The fetch that edits a1 commits after the indexer read the batch (old text) and before it marks it.
        index.BeforeWrite = _ =>
        {
            index.BeforeWrite = null;
            writer.Feeds.CommitFetch("wire", [Story("a1", hash: "hash-a1-corrected") with { Title = "Corrected headline" }], null, null, T0.AddMinutes(5));
        };

        var drained = await new SearchIndexer(indexerSide.Articles, index, NullLogger<SearchIndexer>.Instance).DrainAsync();

        indexerSide.Articles.UnindexedArticles(10).Should().BeEmpty();
        index.Versions["a1"].Should().Be("hash-a1-corrected", "the corrected text is what the index holds, not the text read before the edit");
        index.Versions["a2"].Should().Be("hash-a2");
        drained.Should().Be(3, "a1 was indexed twice: the old text, then the edit");
    }

    [StorageFact]
    public async Task Retention_while_a_drain_holds_old_articles_leaves_no_chunks_of_them_and_keeps_new_items_fetched_meanwhile()
    {
        var writer = Open();
        var other = Open();
        writer.Feeds.SyncFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);
        var cutoff = T0.AddDays(-30);
        writer.Feeds.CommitFetch("wire", [Story("old1", published: cutoff.AddDays(-2)), Story("old2", published: cutoff.AddDays(-1)), Story("new1")], null, null, T0);
        var index = new RecordingIndex();
        var retention = new RetentionPass(other.Articles, index, NullLogger<RetentionPass>.Instance);

        // 1. The indexer read old1, old2 and new1; retention removes the old ones from index and store; a fetch stores new2;
        //    then the indexer writes what it read (chunks of articles the store no longer has) and marks.
        index.BeforeWrite = _ =>
        {
            index.BeforeWrite = null;
            retention.RunAsync(cutoff).GetAwaiter().GetResult().Articles.Should().Be(2);
            writer.Feeds.CommitFetch("wire", [Story("new2")], null, null, T0.AddMinutes(1));
        };
        await new SearchIndexer(writer.Articles, index, NullLogger<SearchIndexer>.Instance).DrainAsync();

        index.Versions.Keys.Should().BeEquivalentTo(["new1", "new2"], "no chunks of deleted articles; the item fetched meanwhile is indexed");
        writer.Articles.GetArticles(["new1", "new2"]).Should().HaveCount(2);

        // 2. The other order: a drain runs inside retention, after its first index delete and before the store delete.
        writer.Feeds.CommitFetch("wire", [Story("old3", published: cutoff.AddDays(-3)), Story("new3")], null, null, T0.AddMinutes(2));
        index.AfterDelete = _ =>
        {
            index.AfterDelete = null;
            new SearchIndexer(writer.Articles, index, NullLogger<SearchIndexer>.Instance).DrainAsync().GetAwaiter().GetResult();
            index.Versions.Should().ContainKey("old3", "the drain indexed old3, which the store still had");
        };
        (await retention.RunAsync(cutoff)).Articles.Should().Be(1);

        index.Versions.Keys.Should().BeEquivalentTo(["new1", "new2", "new3"]);
        writer.Articles.CountArticles().Should().Be(3);
        writer.Articles.UnindexedArticles(10).Should().BeEmpty();
    }

    [StorageFact]
    public async Task Ingest_index_drains_and_retention_running_together_end_with_the_index_matching_the_store()
    {
        var ingestSide = Open();
        var indexSide = Open();
        var retentionSide = Open();
        ingestSide.Feeds.SyncFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);
        var cutoff = T0.AddDays(-30);
        var index = new RecordingIndex();
        var indexer = new SearchIndexer(indexSide.Articles, index, NullLogger<SearchIndexer>.Instance);
        var retention = new RetentionPass(retentionSide.Articles, index, NullLogger<RetentionPass>.Instance);
        using var stop = new CancellationTokenSource();

        // Ingest: 40 fetches of fresh items, old items (past retention) and edits of earlier fresh items.
        var ingest = Task.Run(() =>
        {
            for (var f = 0; f < 40; f++)
            {
                var batch = Enumerable.Range(0, 10).Select(i => Story($"f{f}-{i}"))
                    .Concat(Enumerable.Range(0, 3).Select(i => Story($"old-f{f}-{i}", published: cutoff.AddDays(-1 - i))))
                    .Concat(f > 0 ? [Story($"f{f - 1}-0", hash: $"edit-{f}") with { Title = $"Edited in fetch {f}" }] : [])
                    .ToList();
                ingestSide.Feeds.CommitFetch("wire", batch, null, null, T0.AddMinutes(f));
            }
        });
        var drains = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await indexer.DrainAsync(batchSize: 7);
            }
        });
        var passes = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await retention.RunAsync(cutoff, batchSize: 5);
            }
        });

        await ingest;
        await stop.CancelAsync();
        await Task.WhenAll(drains, passes);
        await retention.RunAsync(cutoff);
        await indexer.DrainAsync();

        var stored = ingestSide.Articles.ArticlesInWindow(T0.AddYears(-1), T0.AddYears(1), T0.AddYears(1), limit: 100_000);
        stored.Should().HaveCount(400, "every fresh item stored once, every old one removed");
        stored.Select(a => a.Id).Should().OnlyHaveUniqueItems();
        index.Versions.Should().BeEquivalentTo(stored.ToDictionary(a => a.Id, a => a.ContentHash),
            "the index holds every stored article, in its latest text, and nothing else");
        stored.Where(a => a.Title.StartsWith("Edited", StringComparison.Ordinal)).Should().HaveCount(39);
    }

    /// <summary>
    /// An index that records, per article, the content hash it holds; hooks run another writer at a chosen point.
    /// Thread-safe, like the real indexes.
    /// </summary>
    private protected sealed class RecordingIndex : ISearchIndex
    {
        public ConcurrentDictionary<string, string> Versions { get; } = new(StringComparer.Ordinal);

        /// <summary>Runs after the indexer read a batch and before this index holds it.</summary>
        public Action<IReadOnlyList<Article>>? BeforeWrite { get; set; }

        /// <summary>Runs after a delete.</summary>
        public Action<IReadOnlyCollection<string>>? AfterDelete { get; set; }

        public Task InitializeAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        /// <summary>Articles written over every call (an article written twice counts twice).</summary>
        public int Written => Volatile.Read(ref _written);

        private int _written;

        public Task IndexAsync(IReadOnlyList<Article> articles, CancellationToken cancellationToken = default)
        {
            BeforeWrite?.Invoke(articles);
            Interlocked.Add(ref _written, articles.Count);
            foreach (var a in articles)
            {
                Versions[a.Id] = a.ContentHash;
            }

            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<SearchHit>>([]);

        public Task DeleteAsync(IReadOnlyCollection<string> articleIds, CancellationToken cancellationToken = default)
        {
            foreach (var id in articleIds)
            {
                Versions.TryRemove(id, out _);
            }

            AfterDelete?.Invoke(articleIds);
            return Task.CompletedTask;
        }

        public Task ClearAsync(CancellationToken cancellationToken = default)
        {
            Versions.Clear();
            return Task.CompletedTask;
        }

        public Task<long> CountAsync(CancellationToken cancellationToken = default) => Task.FromResult((long)Versions.Count);
    }
}

/// <summary>The concurrency cases on one SQLite file shared by several store instances (e.g. a worker and a web process).</summary>
public sealed class SqliteStoreConcurrencyTests : StoreConcurrencyTests
{
    private readonly TestEnvironment _env = TestEnvironment.Create();

    protected override (IFeedStore Feeds, IArticleStore Articles) OpenCore()
    {
        var store = new SqliteStore(_env.DatabasePath);
        store.Initialize();
        return (store, store);
    }

    public override void Dispose()
    {
        base.Dispose();
        _env.Dispose();
    }
}

/// <summary>The concurrency cases on PostgreSQL: a database of this class's own, emptied before each test.</summary>
[RequiresPostgres]
public sealed class PostgresStoreConcurrencyTests(PostgresDatabase database) : StoreConcurrencyTests, IClassFixture<PostgresDatabase>
{
    private bool _emptied;

    protected override (IFeedStore Feeds, IArticleStore Articles) OpenCore()
    {
        var store = new PostgresStore(database.ConnectionString, Clock);
        store.Initialize();
        if (!_emptied)
        {
            using var c = new NpgsqlConnection(database.ConnectionString);
            c.Open();
            using var truncate = new NpgsqlCommand("TRUNCATE feeds, articles RESTART IDENTITY CASCADE", c);
            truncate.ExecuteNonQuery();
            _emptied = true;
        }

        return (store, store);
    }

    /// <summary>
    /// Two nodes drain one index queue: while one holds it, the other's post-poll drain leaves the work to it, and a
    /// drain that must finish (a briefing's) waits for it; every article is embedded and written once, not once per node.
    /// </summary>
    [StorageFact]
    public async Task Two_nodes_draining_at_once_index_every_article_once()
    {
        var ingest = Open();
        ingest.Feeds.SyncFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);
        ingest.Feeds.CommitFetch("wire", Enumerable.Range(0, 50).Select(i => Story($"q{i}")).ToList(), null, null, T0);
        var index = new RecordingIndex();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new ManualResetEventSlim();
        index.BeforeWrite = _ =>
        {
            holding.TrySetResult();
            release.Wait(TimeSpan.FromSeconds(30));
        };
        var first = new SearchIndexer(Open().Articles, index, NullLogger<SearchIndexer>.Instance);
        var second = new SearchIndexer(Open().Articles, index, NullLogger<SearchIndexer>.Instance);

        var firstDrain = Task.Run(() => first.DrainAsync(batchSize: 20));
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(30));
        (await second.DrainAsync(batchSize: 20, waitForOtherNodes: false)).Should().Be(0, "the first node holds the queue");
        var waiting = Task.Run(() => second.DrainAsync(batchSize: 20));
        (await Task.WhenAny(waiting, Task.Delay(300))).Should().NotBeSameAs(waiting, "a waiting drain waits for the holder");
        release.Set();

        (await firstDrain).Should().Be(50);
        (await waiting).Should().Be(0, "nothing was left once the first node let go");
        index.Versions.Should().HaveCount(50);
        index.Written.Should().Be(50, "no article was embedded and written by both nodes");
        ingest.Articles.UnindexedArticles(100).Should().BeEmpty();
    }

    /// <summary>
    /// Two <c>finnews feeds add</c> processes for one id, both past the id check before either stores (the feed server
    /// answers their checks only when both have asked): one adds the feed, the other is refused with the conflict named.
    /// </summary>
    [StorageFact]
    public async Task Two_feeds_add_processes_for_one_id_at_once_give_one_success_and_one_clear_conflict()
    {
        using var env = TestEnvironment.Create();
        var bothAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = 0;
        await using var server = await FetchTestServer.StartAsync(async context =>
        {
            if (Interlocked.Increment(ref asked) >= 2)
            {
                bothAsked.TrySetResult();
            }

            await bothAsked.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await FetchFeeds.WriteRss(context);
        });
        var environment = new Dictionary<string, string>
        {
            [StorageOptions.PostgresConnectionVariable] = database.ConnectionString,
            ["FINNEWS_Storage__Provider"] = "postgres",
        };

        var first = FinNewsProcess.RunWithAsync(environment, "feeds", "add", "--id", "raced", "--name", "First", "--url", server.Url("/first.rss"), "--internal", "--config", env.ConfigDirectory);
        var second = FinNewsProcess.RunWithAsync(environment, "feeds", "add", "--id", "raced", "--name", "Second", "--url", server.Url("/second.rss"), "--internal", "--config", env.ConfigDirectory);
        var results = await Task.WhenAll(first, second);

        results.Select(r => r.Code).Should().BeEquivalentTo([0, 2], string.Join("\n", results.Select(r => r.Err)));
        var refused = results.Single(r => r.Code == 2);
        refused.Err.Should().Contain("Feed raced not added").And.Contain("already exists: it was added at");
        var winner = results[0].Code == 0 ? "/first.rss" : "/second.rss";
        using var store = new PostgresStore(database.ConnectionString, Clock);
        store.ListFeeds().Where(f => f.Definition.Id == "raced").Should().ContainSingle()
            .Which.Definition.Url.Should().EndWith(winner, "the refused add left the winner's definition as it was");
    }
}
