using FinNews.Core.Search;
using Lucene.Net.Index;
using Lucene.Net.Store;
using Lucene.Net.Util;

namespace FinNews.Tests.Search;

/// <summary>
/// The Lucene index is derived from search_chunks: whenever the generation or document layout its last commit records
/// is not SQLite's, the next writer rebuilds it, so a crash between the two commits or an index from an older version
/// never leaves lexical search missing or duplicating chunks.
/// </summary>
public sealed class LexicalRecoveryTests : IDisposable
{
    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Theory]
    [InlineData("2", -1, "a crash after the SQLite commit of the last write, before its Lucene commit")]
    [InlineData(null, 0, "an index written by a version without the layout key (numeric time terms, indexed chunk ids)")]
    public async Task A_lexical_index_that_is_behind_or_of_another_layout_is_rebuilt_from_the_chunks(string? layout, int generationOffset, string situation)
    {
        var corpus = SearchTestData.Corpus();
        long generation;
        using (var index = _database.CreateIndex())
        {
            await index.IndexAsync(corpus);
            generation = await GenerationAsync();
        }

        // Empty the Lucene index behind SQLite's back and record the situation in its commit.
        using (var directory = FSDirectory.Open(SqliteSearchIndex.LexicalPath(_database.ConnectionString)!))
        using (var writer = new IndexWriter(directory, new IndexWriterConfig(LuceneVersion.LUCENE_48, new EnglishSearchAnalyzer())))
        {
            writer.DeleteAll();
            var data = new Dictionary<string, string> { ["generation"] = (generation + generationOffset).ToString(System.Globalization.CultureInfo.InvariantCulture) };
            if (layout is not null)
            {
                data["layout"] = layout;
            }

            writer.SetCommitData(data);
            writer.Commit();
        }

        using var reopened = _database.CreateIndex();
        var hits = await reopened.SearchAsync(new SearchQuery("zugzwang", SearchMode.Lexical, Limit: 50));

        hits.Select(h => h.ArticleId).Should().Contain(corpus.Where(a => $"{a.Title} {a.Summary} {a.Body}".Contains("zugzwang", StringComparison.Ordinal)).Select(a => a.Id), situation);
        hits.Select(h => h.ChunkId).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Merged_segments_are_kept_so_many_writes_do_not_pile_up_segments()
    {
        // Every write flushes a segment; the merge policy folds them together in the background. A merge that finished
        // between a commit and the end of the write must be kept (a rollback threw such merges away, and a million
        // chunks ended up in 491 segments, searched one by one).
        var index = _database.CreateIndex();
        for (var i = 0; i < 60; i++)
        {
            await index.IndexAsync([SearchTestData.Article($"m{i}", $"Write number {i} about copper and zinc")]);
        }

        index.Dispose(); // waits for running merges and commits them
        using var reopened = _database.CreateIndex();
        await reopened.InitializeAsync();

        reopened.LexicalSegments.Should().BeLessThan(25, "60 one-document writes merged at ten segments per tier");
        (await reopened.SearchAsync(new SearchQuery("copper zinc", SearchMode.Lexical, Limit: 100))).Should().HaveCount(60);
    }

    [Fact]
    public async Task Time_filters_use_the_publication_time_of_each_chunk()
    {
        using var index = _database.CreateIndex();
        var day = SearchTestData.Jan1;
        await index.IndexAsync(
        [
            SearchTestData.Article("early", "Copper smelter expands", publishedAt: day),
            SearchTestData.Article("edge", "Copper smelter restarts", publishedAt: day.AddHours(12)),
            SearchTestData.Article("late", "Copper smelter closes", publishedAt: day.AddDays(1)),
        ]);

        var hits = await index.SearchAsync(new SearchQuery("copper smelter", SearchMode.Lexical, Since: day.AddHours(12), Until: day.AddDays(1)));

        hits.Select(h => h.ArticleId).Should().Equal("edge");
    }

    [Fact]
    public async Task A_second_index_opens_and_searches_while_another_process_holds_the_write_lock()
    {
        var corpus = SearchTestData.Corpus();
        using (var index = _database.CreateIndex())
        {
            await index.IndexAsync(corpus);
        }

        // Another process in the middle of a drain: it holds Lucene's write lock. Opening an index that is up to date
        // only reads the last commit, so search starts at once instead of waiting a minute for the lock and failing.
        using var directory = FSDirectory.Open(SqliteSearchIndex.LexicalPath(_database.ConnectionString)!);
        using var holder = new IndexWriter(directory, new IndexWriterConfig(LuceneVersion.LUCENE_48, new EnglishSearchAnalyzer()));

        using var reader = _database.CreateIndex();
        var hits = await reader.SearchAsync(new SearchQuery("zugzwang", SearchMode.Lexical)).WaitAsync(TimeSpan.FromSeconds(30));

        hits.Select(h => h.ArticleId).Should().Equal("a4");
    }

    [Fact]
    public async Task Two_indexes_on_one_database_writing_at_once_both_see_every_edit_once()
    {
        // Two processes (a worker draining, a CLI reindexing one article) write the same index: Lucene's write lock
        // takes them in turn, and each sees the other's commits.
        using var first = _database.CreateIndex();
        using var second = _database.CreateIndex();
        await first.IndexAsync(SearchTestData.Corpus());

        for (var round = 0; round < 3; round++)
        {
            var edited = SearchTestData.Article("a4", $"Freight costs eased in round {round}; carriers report quokka{round} volumes", feedId: "reuters");
            var added = SearchTestData.Article($"n{round}", $"A wombat{round} sighting near the port");
            await Task.WhenAll(first.IndexAsync([edited]), second.IndexAsync([added]));
        }

        foreach (var index in new[] { first, second })
        {
            (await index.SearchAsync(new SearchQuery("zugzwang", SearchMode.Lexical))).Should().BeEmpty("the edit removed the word");
            (await index.SearchAsync(new SearchQuery("quokka1", SearchMode.Lexical))).Should().BeEmpty("round 2 replaced round 1's text");
            (await index.SearchAsync(new SearchQuery("quokka2", SearchMode.Lexical))).Select(h => h.ChunkId).Should().Equal("a4#0");
            for (var round = 0; round < 3; round++)
            {
                (await index.SearchAsync(new SearchQuery($"wombat{round}", SearchMode.Lexical))).Select(h => h.ArticleId).Should().Equal($"n{round}");
            }
        }

        using var reopened = _database.CreateIndex();
        var all = await reopened.SearchAsync(new SearchQuery("freight costs port wombat0 wombat1 wombat2 quokka2", SearchMode.Lexical, Limit: 100));
        all.Select(h => h.ChunkId).Should().OnlyHaveUniqueItems();
        (await reopened.CountAsync()).Should().Be(SearchTestData.Corpus().Sum(a => Chunker.Chunk(a).Count) + 3);
    }

    private async Task<long> GenerationAsync()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM search_meta WHERE key = 'generation'";
        return long.Parse((string)(await command.ExecuteScalarAsync())!, System.Globalization.CultureInfo.InvariantCulture);
    }
}
