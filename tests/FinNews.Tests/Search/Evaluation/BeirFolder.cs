using System.Text.Json;

namespace FinNews.Tests.Search.Evaluation;

/// <summary>A tiny BEIR-layout folder written by a test, deleted on dispose.</summary>
internal sealed class BeirFolder : IDisposable
{
    public BeirFolder(IEnumerable<(string Id, string Title, string Text)> corpus, IEnumerable<(string Id, string Text)> queries, IEnumerable<(string Query, string Doc, int Score)> qrels)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "finnews-beir-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "qrels"));
        File.WriteAllLines(System.IO.Path.Combine(Path, "corpus.jsonl"),
            corpus.Select(d => JsonSerializer.Serialize(new Dictionary<string, object> { ["_id"] = d.Id, ["title"] = d.Title, ["text"] = d.Text, ["metadata"] = new Dictionary<string, string>() })));
        File.WriteAllLines(System.IO.Path.Combine(Path, "queries.jsonl"),
            queries.Select(q => JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = q.Id, ["text"] = q.Text })));
        File.WriteAllLines(System.IO.Path.Combine(Path, "qrels", "test.tsv"),
            new[] { "query-id\tcorpus-id\tscore" }.Concat(qrels.Select(r => $"{r.Query}\t{r.Doc}\t{r.Score}")));
    }

    public string Path { get; }

    public static BeirFolder Markets() => new(
        [
            ("d1", "Copper prices surge", "Copper climbed to a record as mines in Chile cut output."),
            ("d2", "Central bank raises rates", "The central bank lifted its benchmark interest rate by half a point."),
            ("d3", "Chipmaker beats estimates", "Semiconductor revenue rose on strong demand for accelerators."),
            ("d4", "Oil slides on supply glut", "Crude oil fell as inventories swelled and demand weakened."),
            ("d5", "Copper smelter strike", "Workers at a copper smelter walked out over pay."),
        ],
        [("q1", "copper mine output"), ("q2", "interest rate hike"), ("q3", "crude inventories"), ("q4", "unjudged query")],
        [("q1", "d1", 2), ("q1", "d5", 1), ("q2", "d2", 1), ("q3", "d4", 1)]);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
