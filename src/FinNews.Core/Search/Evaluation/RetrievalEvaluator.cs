using System.Diagnostics;
using FinNews.Core.Feeds;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;

namespace FinNews.Core.Search.Evaluation;

/// <summary>Settings of one evaluation run.</summary>
public sealed record RetrievalEvaluationOptions
{
    /// <summary>The modes to run every query in.</summary>
    public IReadOnlyList<SearchMode> Modes { get; init; } = [SearchMode.Lexical, SearchMode.Vector, SearchMode.Hybrid];

    /// <summary>The index settings under test (tokenizer, fusion, weights).</summary>
    public SqliteSearchIndexOptions Index { get; init; } = SqliteSearchIndexOptions.Default;

    /// <summary>Documents per <see cref="ISearchIndex.IndexAsync"/> call.</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Where the throwaway index file goes; <c>null</c> for the system temp folder.</summary>
    public string? TempDirectory { get; init; }

    /// <summary>Receives short progress lines (indexing, each mode).</summary>
    public IProgress<string>? Progress { get; init; }
}

/// <summary>
/// Runs a BEIR dataset through a fresh, temporary <see cref="SqliteSearchIndex"/>: indexes the corpus with the given
/// embedder, runs every judged query in every mode with <c>Limit = 100</c>, and scores nDCG@10, Recall@100 and MRR@10.
/// </summary>
/// <remarks>
/// Each document becomes one <see cref="Article"/> (title, summary = text, no body, a fixed publication date), so it is
/// one chunk and one hit, as BEIR expects. The index file lives in its own temporary folder, deleted afterwards.
/// </remarks>
public static class RetrievalEvaluator
{
    /// <summary>Results retrieved per query (the Recall@100 depth).</summary>
    public const int Depth = 100;

    /// <summary>The publication date given to every evaluation document.</summary>
    public static readonly DateTimeOffset FixedPublished = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Loads <paramref name="folder"/> (BEIR layout, <c>test</c> split) and evaluates it.</summary>
    public static Task<RetrievalReport> EvaluateFolderAsync(
        string folder,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        string embedderName,
        RetrievalEvaluationOptions? options = null,
        CancellationToken cancellationToken = default) =>
        EvaluateAsync(BeirDataset.Load(folder), embedder, embedderName, options, cancellationToken);

    /// <summary>Evaluates a loaded dataset.</summary>
    /// <param name="dataset">Corpus, queries and judgments.</param>
    /// <param name="embedder">The embedder under test (vector and hybrid modes).</param>
    /// <param name="embedderName">Its name, for the index and the report (<c>hashing</c>, <c>glove</c>, ...).</param>
    /// <param name="options">Modes and index settings; <c>null</c> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the run; the temporary index is still deleted.</param>
    public static async Task<RetrievalReport> EvaluateAsync(
        BeirDataset dataset,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        string embedderName,
        RetrievalEvaluationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentException.ThrowIfNullOrWhiteSpace(embedderName);
        options ??= new RetrievalEvaluationOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);

        var directory = Path.Combine(options.TempDirectory ?? Path.GetTempPath(), "finnews-eval-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "eval.db"),
            Pooling = false, // nothing must keep the file open once the run is over
        }.ToString();
        try
        {
            using var index = new SqliteSearchIndex(connectionString, embedder, embedderName, options.Index);
            await index.InitializeAsync(cancellationToken);

            var indexing = Stopwatch.StartNew();
            var indexed = 0;
            foreach (var batch in dataset.Corpus.Chunk(options.BatchSize))
            {
                await index.IndexAsync(batch.Select(ToArticle).ToList(), cancellationToken);
                indexed += batch.Length;
                options.Progress?.Report($"indexed {indexed}/{dataset.Corpus.Count}");
            }

            indexing.Stop();
            var chunks = await index.CountAsync(cancellationToken);

            var rows = new List<RetrievalModeResult>();
            foreach (var mode in options.Modes)
            {
                // One untimed query first, so the vector table load and JIT are not billed to the first query.
                await index.SearchAsync(new SearchQuery("warm up", mode, Depth), cancellationToken);
                var ndcg = new List<double>();
                var recall = new List<double>();
                var mrr = new List<double>();
                var latencies = new List<double>();
                var perQuery = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var query in dataset.Queries)
                {
                    var timer = Stopwatch.StartNew();
                    var hits = await index.SearchAsync(new SearchQuery(query.Text, mode, Depth), cancellationToken);
                    latencies.Add(timer.Elapsed.TotalMilliseconds);
                    var ranking = hits.Select(h => h.ArticleId).ToList();
                    var judged = dataset.Qrels[query.Id];
                    var n = RetrievalMetrics.NdcgAt(ranking, judged, 10);
                    ndcg.Add(n);
                    perQuery[query.Id] = n;
                    recall.Add(RetrievalMetrics.RecallAt(ranking, judged, Depth));
                    mrr.Add(RetrievalMetrics.ReciprocalRankAt(ranking, judged, 10));
                }

                var row = new RetrievalModeResult(
                    mode,
                    Mean(ndcg),
                    Mean(recall),
                    Mean(mrr),
                    RetrievalMetrics.Percentile(latencies, 50),
                    RetrievalMetrics.Percentile(latencies, 95),
                    perQuery);
                rows.Add(row);
                options.Progress?.Report($"{mode}: nDCG@10 {row.NdcgAt10:F4}");
            }

            return new RetrievalReport(
                dataset.Name,
                embedderName,
                options.Index,
                dataset.Corpus.Count,
                chunks,
                dataset.Queries.Count,
                indexing.Elapsed,
                rows);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp folder is not worth failing a finished evaluation.
            }
        }
    }

    /// <summary>The article a BEIR document is indexed as.</summary>
    public static Article ToArticle(BeirDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new Article(
            Id: document.Id,
            FeedId: "beir",
            Outlet: "beir",
            Title: document.Title,
            Url: "beir:" + document.Id,
            Summary: document.Text,
            Body: string.Empty,
            PublishedAt: FixedPublished,
            FirstSeenAt: FixedPublished,
            PublishedIsFallback: false,
            Tickers: [],
            Authors: [],
            Categories: [],
            ContentHash: document.Id);
    }

    private static double Mean(List<double> values) => values.Count == 0 ? 0.0 : values.Average();
}
