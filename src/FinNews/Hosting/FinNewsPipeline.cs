using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Search;

namespace FinNews.Hosting;

/// <summary>The whole job once: market data, every feed, the index, and a briefing. Used by `run`, jobs and the CLI.</summary>
public sealed class FinNewsPipeline
{
    private readonly FeedCatalog _feeds;
    private readonly FeedIngestor _ingestor;
    private readonly SearchIndexer _indexer;
    private readonly MarketDataLoader _market;
    private readonly BriefingComposer _composer;
    private readonly BriefingPublisher _publisher;
    private readonly StoryAssigner _stories;

    public FinNewsPipeline(FeedCatalog feeds, FeedIngestor ingestor, SearchIndexer indexer, MarketDataLoader market,
        BriefingComposer composer, BriefingPublisher publisher, StoryAssigner stories)
    {
        _stories = stories;
        _feeds = feeds;
        _ingestor = ingestor;
        _indexer = indexer;
        _market = market;
        _composer = composer;
        _publisher = publisher;
    }

    /// <summary>Loads market files and ingests every enabled feed; then drains the index.</summary>
    public async Task<IReadOnlyList<FeedRunResult>> IngestAsync(Action<FeedRunResult>? progress, CancellationToken cancellationToken)
    {
        await _market.LoadAllAsync(cancellationToken);
        var results = await _ingestor.IngestAsync(_feeds.Load().Feeds, progress, cancellationToken);
        await _indexer.DrainAsync(cancellationToken: cancellationToken);
        _stories.AssignRecent();
        return results;
    }

    /// <summary>Polls the given feeds if they are due (not paused, backoff and Retry-After respected), then indexes and clusters.</summary>
    public async Task<IReadOnlyList<FeedRunResult>> IngestDueAsync(IReadOnlyList<FeedDefinition> feeds, CancellationToken cancellationToken)
    {
        var results = await _ingestor.IngestDueAsync(feeds, null, cancellationToken);
        if (results.Any(r => r.Counts is { Inserted: > 0 } or { Updated: > 0 }))
        {
            await _indexer.DrainAsync(cancellationToken: cancellationToken);
            _stories.AssignRecent();
        }

        return results;
    }

    /// <summary>Writes, stores and publishes a briefing; returns it with the files written.</summary>
    public async Task<(BriefingDocument Briefing, IReadOnlyList<string> Files)> BriefAsync(DateTimeOffset? asOf, CancellationToken cancellationToken)
    {
        await _indexer.DrainAsync(cancellationToken: cancellationToken);
        var briefing = await _composer.ComposeAsync(asOf, cancellationToken);
        return (briefing, _publisher.Publish(briefing));
    }
}

/// <summary>Reads the feed list from its file on each use, so edits apply without a restart; adds and removes feeds.</summary>
public sealed class FeedCatalog
{
    private static readonly Lock Gate = new();
    private readonly string _path;

    public FeedCatalog(string path) => _path = path;

    /// <summary>The feed list file.</summary>
    public string Path => _path;

    /// <summary>Loads and validates the list.</summary>
    public FeedList Load() => FeedList.Load(_path);

    /// <summary>
    /// Validates a new feed (id free, http(s) URL, reachable through the SSRF guard, parseable as a feed) and only then
    /// appends it to the feed list. Returns the number of items the first fetch found.
    /// </summary>
    public async Task<int> AddAsync(FeedDefinition feed, FeedFetcher fetcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(fetcher);
        if (feed.IsLocalFile || !Uri.TryCreate(feed.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidDataException($"Feed '{feed.Id}': url '{feed.Url}' must be an absolute http or https URL.");
        }

        var current = Load().Feeds;
        if (current.Any(f => f.Id == feed.Id))
        {
            throw new InvalidDataException($"Feed '{feed.Id}' already exists in {_path}.");
        }

        // Validate the definition the same way the loader will (id format, name, interval).
        Write([.. current, feed], dryRun: true);
        var fetched = await fetcher.FetchAsync(feed, null, null, cancellationToken);
        var parsed = FeedParser.Parse(fetched.Body, fetched.Charset, fetched.FinalUri);
        Write([.. Load().Feeds.Where(f => f.Id != feed.Id), feed], dryRun: false);
        return parsed.Items.Count;
    }

    /// <summary>Removes a feed from the list (its stored articles stay). False when it is not there.</summary>
    public bool Remove(string feedId)
    {
        var current = Load().Feeds;
        if (current.All(f => f.Id != feedId))
        {
            return false;
        }

        Write([.. current.Where(f => f.Id != feedId)], dryRun: false);
        return true;
    }

    private void Write(IReadOnlyList<FeedDefinition> feeds, bool dryRun)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new FeedList(feeds), FeedListJson.Default.FeedList);
        lock (Gate)
        {
            // Write beside, validate by loading, then rename: a bad edit never replaces a good list.
            var temp = _path + ".new";
            File.WriteAllText(temp, json);
            try
            {
                FeedList.Load(temp);
                if (!dryRun)
                {
                    File.Move(temp, _path, overwrite: true);
                }
            }
            finally
            {
                File.Delete(temp);
            }
        }
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, WriteIndented = true,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)]
[System.Text.Json.Serialization.JsonSerializable(typeof(FeedList))]
internal sealed partial class FeedListJson : System.Text.Json.Serialization.JsonSerializerContext;
