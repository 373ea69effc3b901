using FinNews.Core.Search;
using FinNews.Core.Search.Evaluation;
using Microsoft.Data.Sqlite;

namespace FinNews.Bench;

/// <summary>
/// Chooses hybrid fusion settings on half of a BEIR test set and reports them on the other half, so a tuned knob is not
/// judged on the queries it was tuned on. The halves are the queries at even and odd positions in the file (SciFact's
/// queries are in id order, so both halves cover the whole range). The index is built once per embedder; every
/// setting is a new <see cref="SqliteSearchIndex"/> over the same file.
/// </summary>
internal static class FusionTuning
{
    public static async Task RunAsync(string folder, string embedderName, string? glovePath, int removedComponents,
        double[]? onlyWeights = null, double[]? onlyFloors = null, HybridFusion[]? onlyFusions = null)
    {
        Console.WriteLine(RepoPaths.Machine());
        var dataset = BeirDataset.Load(folder);
        var tune = dataset.Queries.Where((_, i) => i % 2 == 0).ToList();
        var held = dataset.Queries.Where((_, i) => i % 2 == 1).ToList();
        // Every setting runs the same 300 queries: embed each query once (the sentence model takes ~20 ms a query).
        var embedder = new QueryMemo(Embedders.Create(embedderName, glovePath, removedComponents));

        var directory = Path.Combine(Path.GetTempPath(), "finnews-tune-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "tune.db"), Pooling = false }.ToString();
        try
        {
            using (var build = new SqliteSearchIndex(connectionString, embedder, embedderName))
            {
                foreach (var batch in dataset.Corpus.Chunk(512))
                {
                    await build.IndexAsync(batch.Select(RetrievalEvaluator.ToArticle).ToList());
                }
            }

            var lexical = await ScoreAsync(connectionString, embedder, embedderName, SqliteSearchIndexOptions.Default, SearchMode.Lexical, dataset);
            Console.WriteLine(I($"lexical: tune half {Mean(lexical, tune):F4}, held-out half {Mean(lexical, held):F4}, all {Mean(lexical, dataset.Queries):F4}"));

            var shipped = SqliteSearchIndexOptions.DefaultsFor(embedderName);
            var results = new List<(SqliteSearchIndexOptions Options, Dictionary<string, double> Scores)>();
            foreach (var fusion in onlyFusions ?? [HybridFusion.Convex, HybridFusion.ReciprocalRank])
            {
                var weights = onlyWeights ?? (fusion == HybridFusion.Convex
                    ? new[] { 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7 }
                    : new[] { 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5 });
                foreach (var weight in weights)
                {
                    foreach (var floor in onlyFloors ?? [0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7])
                    {
                        var options = SqliteSearchIndexOptions.Default with { Fusion = fusion, VectorWeight = weight, VectorFloor = floor };
                        results.Add((options, await ScoreAsync(connectionString, embedder, embedderName, options, SearchMode.Hybrid, dataset)));
                    }
                }
            }

            var defaults = results.FirstOrDefault(r => r.Options == shipped);
            var best = results.OrderByDescending(r => Mean(r.Scores, tune)).First();
            Console.WriteLine("| setting | tune half | held-out half | all 300 | held-out − lexical | all − lexical |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (var (label, row) in new[] { ("shipped defaults", defaults), ("best on the tune half", best) })
            {
                if (row.Scores is null)
                {
                    continue;
                }

                Console.WriteLine(I(
                    $"| {label}: {row.Options.Fusion} w {row.Options.VectorWeight} floor {row.Options.VectorFloor} | {Mean(row.Scores, tune):F4} | {Mean(row.Scores, held):F4} | {Mean(row.Scores, dataset.Queries):F4} | {Mean(row.Scores, held) - Mean(lexical, held):+0.0000;-0.0000} | {Mean(row.Scores, dataset.Queries) - Mean(lexical, dataset.Queries):+0.0000;-0.0000} |"));
            }

            Console.WriteLine("every setting (tune half, held-out half, all):");
            foreach (var row in results)
            {
                Console.WriteLine(I($"  {row.Options.Fusion} w {row.Options.VectorWeight} floor {row.Options.VectorFloor}: tune {Mean(row.Scores, tune):F4}, held-out {Mean(row.Scores, held):F4}, all {Mean(row.Scores, dataset.Queries):F4}"));
            }

            Console.WriteLine("top 8 settings on the tune half (their held-out scores beside):");
            foreach (var row in results.OrderByDescending(r => Mean(r.Scores, tune)).Take(8))
            {
                Console.WriteLine(I($"  {row.Options.Fusion} w {row.Options.VectorWeight} floor {row.Options.VectorFloor}: tune {Mean(row.Scores, tune):F4}, held-out {Mean(row.Scores, held):F4}"));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<Dictionary<string, double>> ScoreAsync(string connectionString, Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> embedder,
        string embedderName, SqliteSearchIndexOptions options, SearchMode mode, BeirDataset dataset)
    {
        using var index = new SqliteSearchIndex(connectionString, embedder, embedderName, options);
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var query in dataset.Queries)
        {
            var hits = await index.SearchAsync(new SearchQuery(query.Text, mode, RetrievalEvaluator.Depth));
            scores[query.Id] = RetrievalMetrics.NdcgAt(hits.Select(h => h.ArticleId).ToList(), dataset.Qrels[query.Id], 10);
        }

        return scores;
    }

    /// <summary>Remembers the vector of each one-text (query) request; passes batches (indexing) through.</summary>
    private sealed class QueryMemo(Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> inner)
        : Microsoft.Extensions.AI.DelegatingEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>>(inner)
    {
        private readonly Dictionary<(string, bool), Microsoft.Extensions.AI.GeneratedEmbeddings<Microsoft.Extensions.AI.Embedding<float>>> _seen = [];

        public override async Task<Microsoft.Extensions.AI.GeneratedEmbeddings<Microsoft.Extensions.AI.Embedding<float>>> GenerateAsync(IEnumerable<string> values,
            Microsoft.Extensions.AI.EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var texts = values.ToList();
            if (texts.Count != 1)
            {
                return await base.GenerateAsync(texts, options, cancellationToken);
            }

            var key = (texts[0], EmbeddingInput.IsQuery(options));
            if (!_seen.TryGetValue(key, out var result))
            {
                _seen[key] = result = await base.GenerateAsync(texts, options, cancellationToken);
            }

            return result;
        }
    }

    private static double Mean(Dictionary<string, double> scores, IEnumerable<BeirQuery> queries) => queries.Average(q => scores[q.Id]);

    private static string I(FormattableString text) => FormattableString.Invariant(text);
}
