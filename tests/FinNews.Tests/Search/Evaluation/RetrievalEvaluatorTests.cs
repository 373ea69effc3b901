using System.Text.Json;
using FinNews.Core.Search;
using FinNews.Core.Search.Evaluation;

namespace FinNews.Tests.Search.Evaluation;

public sealed class RetrievalEvaluatorTests
{
    [Fact]
    public void Loads_a_beir_folder_keeping_only_judged_queries()
    {
        using var folder = BeirFolder.Markets();
        var dataset = BeirDataset.Load(folder.Path);

        dataset.Corpus.Should().HaveCount(5);
        dataset.Corpus[0].Should().Be(new BeirDocument("d1", "Copper prices surge", "Copper climbed to a record as mines in Chile cut output."));
        dataset.Queries.Select(q => q.Id).Should().Equal("q1", "q2", "q3");
        dataset.Qrels["q1"].Should().BeEquivalentTo(new Dictionary<string, int> { ["d1"] = 2, ["d5"] = 1 });
    }

    [Fact]
    public void Subset_keeps_judged_documents_and_fills_with_distractors()
    {
        using var folder = BeirFolder.Markets();
        var subset = BeirDataset.Load(folder.Path).Subset(maxQueries: 1, maxDocuments: 3);

        subset.Queries.Select(q => q.Id).Should().Equal("q1");
        subset.Corpus.Select(d => d.Id).Should().Equal("d1", "d2", "d5");
        subset.Qrels.Keys.Should().Equal("q1");
    }

    [Fact]
    public async Task Evaluates_every_mode_and_cleans_up_its_temporary_index()
    {
        using var folder = BeirFolder.Markets();
        var temp = Path.Combine(Path.GetTempPath(), "finnews-evaltmp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            var report = await RetrievalEvaluator.EvaluateFolderAsync(
                folder.Path, new HashingEmbedder(), "hashing", new RetrievalEvaluationOptions { TempDirectory = temp });

            report.Documents.Should().Be(5);
            report.Chunks.Should().Be(5, "one chunk per BEIR document");
            report.Queries.Should().Be(3);
            report.Modes.Select(m => m.Mode).Should().Equal(SearchMode.Lexical, SearchMode.Vector, SearchMode.Hybrid);
            report[SearchMode.Lexical]!.NdcgAt10.Should().BeApproximately(1.0, 1e-9, "every query has its judged documents on top lexically");
            report[SearchMode.Lexical]!.RecallAt100.Should().Be(1.0);
            report[SearchMode.Hybrid]!.MrrAt10.Should().Be(1.0);
            Directory.EnumerateFileSystemEntries(temp).Should().BeEmpty("the index folder is deleted after the run");

            report.ToTable().Should().Contain("lexical").And.Contain("hybrid").And.Contain("1.0000");
            using var json = JsonDocument.Parse(report.ToJson());
            json.RootElement.GetProperty("modes").GetArrayLength().Should().Be(3);
            json.RootElement.GetProperty("modes")[0].GetProperty("ndcg@10").GetDouble().Should().Be(1.0);
            json.RootElement.GetProperty("index").GetProperty("lexical").GetString().Should().Be(LuceneLexicalIndex.Description);
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    [Fact]
    public async Task Scifact_subset_reproduces_bm25_quality()
    {
        var folder = Path.Combine(TestPaths.SharedCorpora, "beir-scifact");
        if (!File.Exists(Path.Combine(folder, "corpus.jsonl")))
        {
            return; // the shared corpora are not present on this machine
        }

        // 100 queries over 400 documents (their judged documents plus distractors) keeps this test to a few seconds;
        // the full 5,183-document run is `FinNews.Bench eval` (see bench/README.md).
        var dataset = BeirDataset.Load(folder).Subset(maxQueries: 100, maxDocuments: 400);
        var report = await RetrievalEvaluator.EvaluateAsync(dataset, new HashingEmbedder(), "hashing");

        report[SearchMode.Lexical]!.NdcgAt10.Should().BeGreaterThan(0.80);
        report[SearchMode.Hybrid]!.NdcgAt10.Should().BeGreaterThanOrEqualTo(report[SearchMode.Lexical]!.NdcgAt10 - 0.01,
            "the default fusion must not drag hybrid below lexical with the weak hashing vectors");
    }
}
