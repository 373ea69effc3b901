using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace FinNews.Core.Feeds;

/// <summary>
/// The effective feed list. The database is its system of record: config/feeds.json is the declared list, seeded into
/// the store (never written by the program), and feeds added from the CLI or the API are stored rows beside it.
/// </summary>
/// <remarks>
/// Seeding happens on first use in a process and again whenever the file's content changes, so an edit of feeds.json
/// applies without a restart. Every reader (ingest, scheduled polls, feed health, CLI, API, pages) reads the list from
/// the store through this class.
/// </remarks>
public sealed class FeedCatalog
{
    private readonly Lock _seedGate = new();
    private readonly IFeedStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<FeedCatalog>? _logger;
    private string? _seededHash;

    public FeedCatalog(string path, IFeedStore store, TimeProvider time, ILogger<FeedCatalog>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = path;
        _store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>The declared feed list file (config/feeds.json).</summary>
    public string Path { get; }

    /// <summary>The file name of the declared list, for messages shown outside the host (API).</summary>
    public string FileName => System.IO.Path.GetFileName(Path);

    /// <summary>Every feed of the effective list (config feeds in declared order, then added feeds).</summary>
    public IReadOnlyList<FeedDefinition> Feeds() => Entries().Select(f => f.Definition).ToList();

    /// <summary>Every feed of the effective list with its origin.</summary>
    public IReadOnlyList<StoredFeed> Entries()
    {
        EnsureSeeded();
        return _store.ListFeeds();
    }

    /// <summary>One feed of the effective list, or null.</summary>
    public StoredFeed? Find(string feedId)
    {
        EnsureSeeded();
        return _store.GetFeed(feedId);
    }

    /// <summary>
    /// Seeds the store from the declared list when the file changed since this process last did (always the first
    /// time). The first seed throws when the file is missing or invalid (the error names the file, the feed and the bad
    /// value); a later bad edit is logged and the stored list stays in use until the file is fixed.
    /// </summary>
    public void EnsureSeeded()
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            bytes = [];
        }

        var hash = Convert.ToHexString(SHA256.HashData(bytes));
        lock (_seedGate)
        {
            if (hash == _seededHash)
            {
                return;
            }

            FeedList declared;
            try
            {
                declared = FeedList.Load(Path);
            }
            catch (InvalidDataException ex) when (_seededHash is not null)
            {
                _logger?.LogError("{Error} The feed list stays as last seeded until the file is fixed.", ex.Message);
                _seededHash = hash;
                return;
            }

            _store.SeedFeeds(declared.Feeds);
            _seededHash = hash;
        }
    }

    /// <summary>
    /// Validates a new feed (definition, http(s) URL, id free, reachable through the fetcher and its SSRF guard,
    /// parseable as a feed) and only then stores it, atomically: of two adds of one id, the second fails with
    /// <see cref="FeedExistsException"/>. Returns the number of items the first fetch found. A URL that answers with a
    /// web page throws <see cref="FeedPageException"/> naming the feeds the page links to (autodiscovery).
    /// </summary>
    public async Task<int> AddAsync(FeedDefinition feed, FeedFetcher fetcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(fetcher);
        FeedList.Validate(feed);
        if (feed.IsLocalFile || !Uri.TryCreate(feed.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidDataException($"Feed '{feed.Id}': url '{feed.Url}' must be an absolute http or https URL.");
        }

        if (Find(feed.Id) is { } existing)
        {
            throw Exists(existing);
        }

        var fetched = await fetcher.FetchAsync(feed, null, null, cancellationToken);
        ParsedFeed parsed;
        try
        {
            parsed = FeedParser.Parse(fetched.Body, fetched.Charset, fetched.FinalUri);
        }
        catch (FeedParseException) when (Discover(fetched) is { } page)
        {
            // A web page given for a feed: the feeds it announces are offered instead (fetched by the same guarded fetcher).
            throw page;
        }

        if (!_store.TryAddFeed(feed, _time.GetUtcNow()))
        {
            throw _store.GetFeed(feed.Id) is { } raced ? Exists(raced) : new FeedExistsException($"Feed '{feed.Id}' already exists.");
        }

        return parsed.Items.Count;
    }

    // The feeds a fetched HTML page links to, as the exception that offers them; null when the body is not HTML.
    private static FeedPageException? Discover(FetchResult fetched)
    {
        if (fetched.FinalUri is null || fetched.Body.Length == 0)
        {
            return null;
        }

        var text = FeedDiscovery.Decode(fetched.Body, fetched.Charset);
        return FeedDiscovery.IsHtml(text) ? new FeedPageException(FeedDiscovery.Find(text, fetched.FinalUri)) : null;
    }

    /// <summary>
    /// Removes an added feed (its stored articles stay). A feed declared in the feed list file is left alone
    /// (<see cref="FeedRemoval.DeclaredInConfig"/>): the program never rewrites that file.
    /// </summary>
    public FeedRemoval Remove(string feedId)
    {
        EnsureSeeded();
        return _store.RemoveAddedFeed(feedId);
    }

    private FeedExistsException Exists(StoredFeed existing) => new(existing.Origin == FeedOrigin.Config
        ? $"Feed '{existing.Definition.Id}' already exists: it is declared in {FileName}."
        : $"Feed '{existing.Definition.Id}' already exists: it was added{(existing.AddedAt is { } at ? $" at {at:yyyy-MM-dd HH:mm} UTC" : "")}.");
}

/// <summary>A feed with that id is already in the feed list.</summary>
public sealed class FeedExistsException : Exception
{
    public FeedExistsException(string message) : base(message) { }
    public FeedExistsException(string message, Exception inner) : base(message, inner) { }
    public FeedExistsException() { }
}
