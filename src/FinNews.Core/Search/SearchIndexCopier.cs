using System.Globalization;
using System.Text.Json;
using FinNews.Core.Feeds;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace FinNews.Core.Search;

/// <summary>Where a copy into a search backend stands; written after every batch so a crashed copy resumes.</summary>
/// <param name="Target">The backend and where it is (e.g. <c>elasticsearch http://es:9200 alias finnews-chunks</c>).</param>
/// <param name="Embedder">The embedder name and dimension the copy writes with; a change starts the copy over.</param>
/// <param name="LastFirstSeenMs">First-seen time of the last article copied (keyset with <paramref name="LastId"/>).</param>
/// <param name="LastId">Id of the last article copied.</param>
/// <param name="Articles">Articles copied so far.</param>
/// <param name="Chunks">Chunks written so far.</param>
/// <param name="StartedAt">When the copy started (UTC, from the injected clock).</param>
/// <param name="UpdatedAt">When the last batch was written.</param>
/// <param name="Completed">True once a pass reached the end of the store; a later run then copies only newer articles.</param>
public sealed record CopyCheckpoint(
    string Target,
    string Embedder,
    long LastFirstSeenMs,
    string LastId,
    long Articles,
    long Chunks,
    DateTimeOffset StartedAt,
    DateTimeOffset UpdatedAt,
    bool Completed);

/// <summary>The outcome of a copy.</summary>
/// <param name="Copied">Articles written by this run.</param>
/// <param name="Resumed">True when this run continued from a checkpoint instead of clearing the target.</param>
/// <param name="ExpectedChunks">Chunks of every stored article up to the checkpoint (what the target should hold).</param>
/// <param name="ActualChunks">Chunks the target holds.</param>
/// <param name="StoreArticles">Articles in the store at the end.</param>
/// <param name="Checkpoint">The checkpoint as left.</param>
public sealed record CopyReport(long Copied, bool Resumed, long ExpectedChunks, long ActualChunks, long StoreArticles, CopyCheckpoint Checkpoint)
{
    /// <summary>The target holds exactly the chunks of the articles copied.</summary>
    public bool Verified => ExpectedChunks == ActualChunks;
}

/// <summary>
/// Copies every stored article into a search backend (<c>finnews reindex --to</c>): a running installation moves
/// between backends while it keeps serving from the old one. Articles are read in (first seen, id) order, so articles
/// ingested during the copy come last and are copied too; the position is checkpointed after every batch, so a
/// crash resumes where it stopped; running it again after it completed copies only what arrived since. At the end
/// the target's chunk count is checked against the chunks of the stored articles.
/// </summary>
/// <remarks>
/// The target's writes are idempotent upserts (deterministic chunk ids), so a batch written again after a crash
/// between the write and the checkpoint is harmless. An article edited in place after it was copied keeps its old
/// text in the target until it is indexed again.
/// </remarks>
public sealed class SearchIndexCopier
{
    private static readonly JsonSerializerOptions CheckpointJson = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly IArticleStore _store;
    private readonly ISearchIndex _target;
    private readonly string _targetName;
    private readonly string _embedderName;
    private readonly IEmbeddingGenerator<string, Embedding<float>> _embedder;
    private readonly string _checkpointPath;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <param name="store">The system of record.</param>
    /// <param name="target">The backend to fill.</param>
    /// <param name="targetName">Names the target in the checkpoint; a checkpoint for another target is not resumed.</param>
    /// <param name="embedderName">The configured embedder name; with its dimension it identifies the vectors, and a change starts over.</param>
    /// <param name="embedder">The embedder the target writes with (asked only for its dimension here).</param>
    /// <param name="checkpointPath">The checkpoint file (written atomically after every batch).</param>
    /// <param name="time">The clock for the checkpoint's timestamps.</param>
    /// <param name="logger">Receives the start, resume and result.</param>
    public SearchIndexCopier(IArticleStore store, ISearchIndex target, string targetName, string embedderName,
        IEmbeddingGenerator<string, Embedding<float>> embedder, string checkpointPath, TimeProvider time, ILogger logger)
    {
        _store = store;
        _target = target;
        _targetName = targetName;
        _embedderName = embedderName;
        _embedder = embedder;
        _checkpointPath = checkpointPath;
        _time = time;
        _logger = logger;
    }

    /// <summary>Reads a checkpoint file, or null when there is none.</summary>
    public static CopyCheckpoint? ReadCheckpoint(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<CopyCheckpoint>(File.ReadAllText(path), CheckpointJson) : null;

    /// <summary>Copies (or resumes copying) every article, then verifies the target's chunk count.</summary>
    /// <param name="batchSize">Articles per batch (one embedding call, one bulk write and one checkpoint each).</param>
    /// <param name="restart">Ignore any checkpoint: clear the target and copy everything.</param>
    /// <param name="progress">Called after each batch with (articles copied in all, articles in the store).</param>
    public async Task<CopyReport> CopyAsync(int batchSize = 256, bool restart = false, Action<long, long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(batchSize, 0);
        var dimensions = await IndexVectors.DimensionsAsync(_embedder, cancellationToken);
        var embedder = string.Create(CultureInfo.InvariantCulture, $"{_embedderName}/{dimensions}");
        var checkpoint = restart ? null : ReadCheckpoint(_checkpointPath);
        var resumed = checkpoint is not null && checkpoint.Target == _targetName && checkpoint.Embedder == embedder;
        if (!resumed)
        {
            if (checkpoint is not null)
            {
                _logger.LogWarning("Reindex: the checkpoint in {Path} is for {Target} with {Embedder}; starting over for {NewTarget} with {NewEmbedder}",
                    _checkpointPath, checkpoint.Target, checkpoint.Embedder, _targetName, embedder);
            }

            var now = _time.GetUtcNow();
            // Cleared first and then recorded: a crash before the first checkpoint just starts over.
            await _target.ClearAsync(cancellationToken);
            checkpoint = new CopyCheckpoint(_targetName, embedder, long.MinValue, string.Empty, 0, 0, now, now, false);
            Save(checkpoint);
        }
        else
        {
            await _target.InitializeAsync(cancellationToken);
            _logger.LogInformation("Reindex: resuming {Target} after {Articles} articles ({Chunks} chunks)", _targetName, checkpoint!.Articles, checkpoint.Chunks);
        }

        var total = _store.CountArticles();
        long copied = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var keys = NextKeys(checkpoint!.LastFirstSeenMs, checkpoint.LastId, batchSize);
            if (keys.Count == 0)
            {
                break;
            }

            var byId = _store.GetArticles(keys.Select(k => k.Id)).ToDictionary(a => a.Id, StringComparer.Ordinal);
            // An article deleted (retention) between the two reads is simply skipped.
            var articles = keys.Where(k => byId.ContainsKey(k.Id)).Select(k => byId[k.Id]).ToList();
            await _target.IndexAsync(articles, cancellationToken);
            var last = keys[^1];
            checkpoint = checkpoint with
            {
                LastFirstSeenMs = last.FirstSeenMs,
                LastId = last.Id,
                Articles = checkpoint.Articles + articles.Count,
                Chunks = checkpoint.Chunks + articles.Sum(a => (long)Chunker.Chunk(a).Count),
                UpdatedAt = _time.GetUtcNow(),
            };
            Save(checkpoint);
            copied += articles.Count;
            progress?.Invoke(checkpoint.Articles, Math.Max(total, checkpoint.Articles));
        }

        checkpoint = checkpoint! with { Completed = true, UpdatedAt = _time.GetUtcNow() };
        Save(checkpoint);

        var expected = ExpectedChunks(checkpoint);
        var actual = await _target.CountAsync(cancellationToken);
        var report = new CopyReport(copied, resumed, expected, actual, _store.CountArticles(), checkpoint);
        if (report.Verified)
        {
            _logger.LogInformation("Reindex into {Target}: {Copied} articles copied; verified {Chunks} chunks", _targetName, copied, actual);
        }
        else
        {
            _logger.LogWarning("Reindex into {Target}: the target holds {Actual} chunks but the stored articles make {Expected}", _targetName, actual, expected);
        }

        return report;
    }

    /// <summary>The chunks every stored article up to the checkpoint makes (read again from the store, not from the checkpoint's tally).</summary>
    private long ExpectedChunks(CopyCheckpoint checkpoint)
    {
        long chunks = 0;
        var (seen, id) = (long.MinValue, string.Empty);
        while (true)
        {
            var keys = NextKeys(seen, id, 1000)
                .TakeWhile(k => k.FirstSeenMs < checkpoint.LastFirstSeenMs || (k.FirstSeenMs == checkpoint.LastFirstSeenMs && string.CompareOrdinal(k.Id, checkpoint.LastId) <= 0))
                .ToList();
            if (keys.Count == 0)
            {
                return chunks;
            }

            chunks += _store.GetArticles(keys.Select(k => k.Id)).Sum(a => (long)Chunker.Chunk(a).Count);
            (seen, id) = (keys[^1].FirstSeenMs, keys[^1].Id);
        }
    }

    /// <summary>The next article keys in (first seen, id) order, from the store's keyset paging.</summary>
    private List<ArticleKey> NextKeys(long afterFirstSeenMs, string afterId, int limit) =>
        _store.ArticleKeysAfter(afterFirstSeenMs < MinInstantMs ? DateTimeOffset.MinValue : DateTimeOffset.FromUnixTimeMilliseconds(afterFirstSeenMs), afterId, limit)
            .Select(k => new ArticleKey(k.Id, k.FirstSeenAt.ToUnixTimeMilliseconds())).ToList();

    // A fresh checkpoint starts below every instant (long.MinValue); the store takes instants, so it starts at the first one.
    private static readonly long MinInstantMs = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();

    private void Save(CopyCheckpoint checkpoint)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_checkpointPath))!);
        var temporary = _checkpointPath + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(checkpoint, CheckpointJson));
        File.Move(temporary, _checkpointPath, overwrite: true);
    }

    /// <summary>An article's position in the copy order.</summary>
    private sealed record ArticleKey(string Id, long FirstSeenMs);
}

/// <summary>Formats a copy report for the command line.</summary>
public static class CopyReportText
{
    public static string Summary(CopyReport report, string target, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(report);
        var head = string.Create(CultureInfo.InvariantCulture,
            $"{(report.Resumed ? "Resumed; copied" : "Copied")} {report.Copied} articles to {target} in {elapsed.TotalSeconds:0.0} s ({report.Checkpoint.Articles} in all). ");
        return report.Verified
            ? head + string.Create(CultureInfo.InvariantCulture, $"Verified: {report.ActualChunks} chunks, as the {report.Checkpoint.Articles} copied articles make.")
            : head + string.Create(CultureInfo.InvariantCulture,
                $"Count mismatch: the target holds {report.ActualChunks} chunks, the copied articles make {report.ExpectedChunks}. ") +
              "If the application wrote to or deleted from this backend meanwhile, run the command again: it copies only what is new; `--restart` copies everything.";
    }
}
