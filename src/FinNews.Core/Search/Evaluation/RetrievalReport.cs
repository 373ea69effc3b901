using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FinNews.Core.Search.Evaluation;

/// <summary>The scores of one search mode over every query.</summary>
/// <param name="Mode">The mode.</param>
/// <param name="NdcgAt10">Mean nDCG@10.</param>
/// <param name="RecallAt100">Mean Recall@100.</param>
/// <param name="MrrAt10">Mean reciprocal rank at 10.</param>
/// <param name="LatencyP50Ms">Median wall-clock time of one <see cref="ISearchIndex.SearchAsync"/> call.</param>
/// <param name="LatencyP95Ms">95th percentile of the same.</param>
/// <param name="NdcgByQuery">nDCG@10 per query id (not written to JSON).</param>
public sealed record RetrievalModeResult(
    SearchMode Mode,
    double NdcgAt10,
    double RecallAt100,
    double MrrAt10,
    double LatencyP50Ms,
    double LatencyP95Ms,
    IReadOnlyDictionary<string, double> NdcgByQuery);

/// <summary>The result of <see cref="RetrievalEvaluator"/>: one row per mode, plus indexing figures.</summary>
/// <param name="Dataset">Dataset name (folder name, with a subset marker if any).</param>
/// <param name="Embedder">Embedder name.</param>
/// <param name="Index">The index settings evaluated.</param>
/// <param name="Documents">Documents indexed.</param>
/// <param name="Chunks">Chunks the index holds afterwards.</param>
/// <param name="Queries">Queries run per mode.</param>
/// <param name="IndexTime">Wall-clock time to chunk, embed and write the corpus.</param>
/// <param name="Modes">One row per mode.</param>
public sealed record RetrievalReport(
    string Dataset,
    string Embedder,
    SqliteSearchIndexOptions Index,
    int Documents,
    long Chunks,
    int Queries,
    TimeSpan IndexTime,
    IReadOnlyList<RetrievalModeResult> Modes)
{
    /// <summary>Documents indexed per second.</summary>
    public double DocumentsPerSecond => IndexTime > TimeSpan.Zero ? Documents / IndexTime.TotalSeconds : 0;

    /// <summary>The row of one mode, or <c>null</c> when it was not run.</summary>
    public RetrievalModeResult? this[SearchMode mode] => Modes.FirstOrDefault(m => m.Mode == mode);

    /// <summary>A fixed-width text table of this report.</summary>
    public string ToTable() => FormatTable([this]);

    /// <summary>One text table for several reports (e.g. one per embedder), one line per report × mode.</summary>
    public static string FormatTable(IEnumerable<RetrievalReport> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var c = CultureInfo.InvariantCulture;
        var builder = new StringBuilder();
        builder.AppendLine(c, $"{"dataset",-22} {"embedder",-9} {"mode",-8} {"nDCG@10",8} {"R@100",7} {"MRR@10",7} {"p50 ms",8} {"p95 ms",8} {"index s",8} {"docs/s",8}");
        foreach (var report in reports)
        {
            foreach (var row in report.Modes)
            {
                builder.AppendLine(c,
                    $"{report.Dataset,-22} {report.Embedder,-9} {row.Mode.ToString().ToLowerInvariant(),-8} {row.NdcgAt10,8:F4} {row.RecallAt100,7:F4} {row.MrrAt10,7:F4} {row.LatencyP50Ms,8:F2} {row.LatencyP95Ms,8:F2} {report.IndexTime.TotalSeconds,8:F1} {report.DocumentsPerSecond,8:F0}");
            }
        }

        return builder.ToString();
    }

    /// <summary>The report as indented JSON (without per-query scores).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("dataset", Dataset);
            json.WriteString("embedder", Embedder);
            json.WriteStartObject("index");
            json.WriteString("lexical", LuceneLexicalIndex.Description);
            json.WriteString("fusion", Index.Fusion.ToString());
            json.WriteNumber("vectorWeight", Index.VectorWeight);
            json.WriteNumber("rrfK", Index.RrfK);
            json.WriteNumber("vectorFloor", Index.VectorFloor);
            json.WriteEndObject();
            json.WriteNumber("documents", Documents);
            json.WriteNumber("chunks", Chunks);
            json.WriteNumber("queries", Queries);
            json.WriteNumber("indexSeconds", Math.Round(IndexTime.TotalSeconds, 3));
            json.WriteNumber("documentsPerSecond", Math.Round(DocumentsPerSecond, 1));
            json.WriteStartArray("modes");
            foreach (var row in Modes)
            {
                json.WriteStartObject();
                json.WriteString("mode", row.Mode.ToString().ToLowerInvariant());
                json.WriteNumber("ndcg@10", Math.Round(row.NdcgAt10, 4));
                json.WriteNumber("recall@100", Math.Round(row.RecallAt100, 4));
                json.WriteNumber("mrr@10", Math.Round(row.MrrAt10, 4));
                json.WriteNumber("latencyP50Ms", Math.Round(row.LatencyP50Ms, 3));
                json.WriteNumber("latencyP95Ms", Math.Round(row.LatencyP95Ms, 3));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
