using System.Text.Json;
using FinNews.Tests.Support;

namespace FinNews.Tests.Cli;

/// <summary>The operator verbs through the real executable: feed health, pause/resume, search, reindex, eval.</summary>
public class OperatorCommandTests
{
    [Fact]
    public async Task Feeds_status_reports_health_and_pause_resume_change_it()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);

        var paused = await FinNewsProcess.RunAsync("feeds", "pause", "broken-wire", "--reason", "known broken", "--config", env.ConfigDirectory);
        var status = await FinNewsProcess.RunAsync("feeds", "status", "--json", "--config", env.ConfigDirectory);

        paused.Code.Should().Be(0, paused.Err);
        using (var doc = JsonDocument.Parse(status.Out))
        {
            var rows = doc.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!);
            rows["meridian-wire"].GetProperty("status").GetString().Should().Be("ok");
            rows["meridian-wire"].GetProperty("itemsPerDay").GetDouble().Should().BeGreaterThan(0);
            rows["meridian-wire"].GetProperty("nextPollAt").GetString().Should().NotBeNullOrEmpty();
            rows["broken-wire"].GetProperty("status").GetString().Should().Be("paused");
            rows["broken-wire"].GetProperty("pausedReason").GetString().Should().Be("known broken");
            rows["broken-wire"].GetProperty("lastError").GetString().Should().Contain("not well-formed");
        }

        (await FinNewsProcess.RunAsync("feeds", "resume", "broken-wire", "--config", env.ConfigDirectory)).Code.Should().Be(0);
        using var after = JsonDocument.Parse((await FinNewsProcess.RunAsync("feeds", "status", "--json", "--config", env.ConfigDirectory)).Out);
        after.RootElement.EnumerateArray().Single(r => r.GetProperty("id").GetString() == "broken-wire").GetProperty("paused").GetBoolean().Should().BeFalse();

        var unknown = await FinNewsProcess.RunAsync("feeds", "pause", "no-such-feed", "--config", env.ConfigDirectory);
        unknown.Code.Should().Be(2, "an id that names no feed is a bad argument");
        unknown.Err.Should().Contain("no-such-feed").And.Contain("meridian-wire");
    }

    [Fact]
    public async Task Search_finds_articles_with_filters_and_reindex_rebuilds_the_same_results()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);

        var before = await FinNewsProcess.RunAsync("search", "brake recall SUVs", "--json", "--limit", "5", "--config", env.ConfigDirectory);
        var filtered = await FinNewsProcess.RunAsync("search", "upgrade", "--ticker", "AGVB", "--mode", "lexical", "--json", "--config", env.ConfigDirectory);
        var reindex = await FinNewsProcess.RunAsync("reindex", "--config", env.ConfigDirectory);
        var after = await FinNewsProcess.RunAsync("search", "brake recall SUVs", "--json", "--limit", "5", "--config", env.ConfigDirectory);

        before.Code.Should().Be(0, before.Err);
        using var hits = JsonDocument.Parse(before.Out);
        hits.RootElement.EnumerateArray().First().GetProperty("title").GetString().Should().Contain("182,400");
        using var onlyAgvb = JsonDocument.Parse(filtered.Out);
        onlyAgvb.RootElement.GetArrayLength().Should().BeGreaterThan(0);
        onlyAgvb.RootElement.EnumerateArray().Should().OnlyContain(h => h.GetProperty("tickers").EnumerateArray().Any(t => t.GetString() == "AGVB"));
        reindex.Code.Should().Be(0, reindex.Err);
        reindex.Out.Should().MatchRegex(@"Reindexed \d+ articles");
        after.Out.Should().Be(before.Out, "a rebuilt index answers the same");

        var badMode = await FinNewsProcess.RunAsync("search", "x", "--mode", "fuzzy", "--config", env.ConfigDirectory);
        badMode.Code.Should().Be(2);
        badMode.Err.Should().Contain("fuzzy");
    }

    [Fact]
    public async Task Search_shows_one_hit_per_story_unless_every_outlet_is_asked_for()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);

        var collapsed = await FinNewsProcess.RunAsync("search", "Kelvane Sorrel Biosciences acquisition", "--json", "--config", env.ConfigDirectory);
        var every = await FinNewsProcess.RunAsync("search", "Kelvane Sorrel Biosciences acquisition", "--json", "--every-outlet", "--config", env.ConfigDirectory);
        var diverse = await FinNewsProcess.RunAsync("search", "Kelvane Sorrel Biosciences acquisition", "--json", "--diversity", "0.5", "--limit", "5", "--config", env.ConfigDirectory);

        static List<(string Title, string? Story)> Hits(string json)
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.EnumerateArray().Select(h => (h.GetProperty("title").GetString()!, h.GetProperty("storyId").GetString())).ToList();
        }

        var one = Hits(collapsed.Out);
        var all = Hits(every.Out);
        // The deal was carried by five outlets (config/samples/README.md): one story.
        all.Count(h => h.Title.Contains("Sorrel", StringComparison.Ordinal)).Should().BeGreaterThanOrEqualTo(4);
        one.Count(h => h.Title.Contains("Sorrel", StringComparison.Ordinal)).Should().Be(1);
        one.Select(h => h.Story).Where(s => s is not null).Should().OnlyHaveUniqueItems();
        diverse.Code.Should().Be(0, diverse.Err);
        // The relevance floor leaves only the stories the query is about (no unrelated vector neighbours to fill 5).
        Hits(diverse.Out).Should().HaveCountGreaterThanOrEqualTo(2).And.HaveCountLessThanOrEqualTo(5).And.OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Eval_retrieval_reports_every_mode_on_a_beir_folder()
    {
        // A tiny BEIR folder written by the test: 4 documents, 2 queries, graded judgments.
        using var env = TestEnvironment.Create();
        var beir = Path.Combine(env.Root, "beir");
        Directory.CreateDirectory(Path.Combine(beir, "qrels"));
        await File.WriteAllLinesAsync(Path.Combine(beir, "corpus.jsonl"), [
            """{"_id":"d1","title":"Brake recall","text":"Aurelian recalls SUVs over loose brake caliper bolts."}""",
            """{"_id":"d2","title":"Rate decision","text":"The central bank raised its policy rate by a quarter point."}""",
            """{"_id":"d3","title":"Oil","text":"Brent crude climbed after output cuts were extended."}""",
            """{"_id":"d4","title":"Chips","text":"Novalux data-center revenue rose 44 percent."}""",
        ]);
        await File.WriteAllLinesAsync(Path.Combine(beir, "queries.jsonl"), [
            """{"_id":"q1","text":"brake caliper recall"}""",
            """{"_id":"q2","text":"central bank policy rate"}""",
        ]);
        await File.WriteAllLinesAsync(Path.Combine(beir, "qrels", "test.tsv"), ["query-id\tcorpus-id\tscore", "q1\td1\t1", "q2\td2\t1"]);

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("eval", "retrieval", "--dataset", beir, "--json", "--config", env.ConfigDirectory);

        code.Should().Be(0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var report = doc.RootElement[0];
        var modes = report.GetProperty("modes").EnumerateArray().ToDictionary(m => m.GetProperty("mode").GetString()!.ToLowerInvariant());
        modes.Keys.Should().BeEquivalentTo(["lexical", "vector", "hybrid"]);
        modes["lexical"].GetProperty("ndcg@10").GetDouble().Should().Be(1.0, "both relevant documents rank first lexically");
    }
}
