using AngleSharp.Html.Parser;

namespace FinNews.Core.Feeds;

/// <summary>A feed a web page links to.</summary>
/// <param name="Url">The feed's absolute http(s) URL.</param>
/// <param name="Title">The link's title attribute, if any (publisher text: show it encoded).</param>
/// <param name="Type">The declared media type (application/rss+xml, application/atom+xml, application/feed+json…).</param>
public sealed record DiscoveredFeed(string Url, string? Title, string? Type);

/// <summary>
/// Finds the feeds an HTML page announces (<c>&lt;link rel="alternate" type="application/rss+xml" href="…"&gt;</c> and
/// the Atom, RDF and JSON Feed types), the way browsers and feed readers do (RSS autodiscovery).
/// </summary>
/// <remarks>
/// AngleSharp (already used to read HTML here) parses the page, so attribute order, quoting and case do not matter, and
/// <c>&lt;base href&gt;</c> is honoured. CodeHollow.FeedReader's discovery was not used: it matches the HTML with
/// regular expressions and fetches pages itself, outside our fetcher's limits and SSRF guard.
/// </remarks>
public static class FeedDiscovery
{
    private static readonly HtmlParser Parser = new();

    private static readonly HashSet<string> FeedTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json", "application/json",
        "application/x.atom+xml", "application/x-atom+xml", "application/xml", "text/xml", "application/rss",
    };

    /// <summary>Most feeds one page can offer (a page listing thousands is not offering a choice).</summary>
    public const int MaxFeeds = 50;

    /// <summary>Decodes a fetched page as a feed is decoded (BOM, HTTP charset, declaration, checked against the bytes).</summary>
    public static string Decode(ReadOnlySpan<byte> body, string? charset) => FeedCharset.Decode(body, charset);

    /// <summary>True when <paramref name="text"/> is an HTML page rather than a feed (a doctype or an html, head or body element first).</summary>
    public static bool IsHtml(string text)
    {
        var start = text.AsSpan().TrimStart();
        if (start.StartsWith("<?xml", StringComparison.OrdinalIgnoreCase))
        {
            var end = start.IndexOf("?>", StringComparison.Ordinal);
            start = end < 0 ? start : start[(end + 2)..].TrimStart();
        }

        while (start.StartsWith("<!--", StringComparison.Ordinal))
        {
            var end = start.IndexOf("-->", StringComparison.Ordinal);
            if (end < 0)
            {
                return false;
            }

            start = start[(end + 3)..].TrimStart();
        }

        return start.StartsWith("<!doctype html", StringComparison.OrdinalIgnoreCase)
            || start.StartsWith("<html", StringComparison.OrdinalIgnoreCase)
            || start.StartsWith("<head", StringComparison.OrdinalIgnoreCase)
            || start.StartsWith("<body", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The feeds <paramref name="html"/> links to, resolved against <c>&lt;base href&gt;</c> or <paramref name="pageUri"/>, in page order, without duplicates.</summary>
    public static IReadOnlyList<DiscoveredFeed> Find(string html, Uri pageUri)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(pageUri);
        using var document = Parser.ParseDocument(html);
        var baseUri = pageUri;
        if (document.QuerySelector("base[href]")?.GetAttribute("href") is { } baseHref && Uri.TryCreate(pageUri, baseHref.Trim(), out var declared)
            && (declared.Scheme == Uri.UriSchemeHttp || declared.Scheme == Uri.UriSchemeHttps))
        {
            baseUri = declared;
        }

        var found = new List<DiscoveredFeed>();
        foreach (var link in document.QuerySelectorAll("link[href]"))
        {
            var rel = (link.GetAttribute("rel") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var type = link.GetAttribute("type")?.Split(';')[0].Trim();
            if (!rel.Contains("alternate", StringComparer.OrdinalIgnoreCase) || type is null || !FeedTypes.Contains(type))
            {
                continue;
            }

            if (!Uri.TryCreate(baseUri, link.GetAttribute("href")!.Trim(), out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                continue;
            }

            var title = FeedXml.PlainText(link.GetAttribute("title"));
            if (!found.Exists(f => f.Url == url.AbsoluteUri))
            {
                found.Add(new DiscoveredFeed(url.AbsoluteUri, title, type.ToLowerInvariant()));
            }

            if (found.Count == MaxFeeds)
            {
                break;
            }
        }

        return found;
    }
}

/// <summary>The URL given as a feed is a web page; <see cref="Feeds"/> are the feeds it links to (possibly none).</summary>
public sealed class FeedPageException : FeedParseException
{
    public FeedPageException(IReadOnlyList<DiscoveredFeed> feeds)
        : base(feeds.Count == 0
            ? "The URL is a web page, not a feed, and the page links to no feed."
            : $"The URL is a web page, not a feed; the page links to {feeds.Count} feed{(feeds.Count == 1 ? "" : "s")}.") => Feeds = feeds;

    public FeedPageException(string message) : base(message) => Feeds = [];

    public FeedPageException(string message, Exception inner) : base(message, inner) => Feeds = [];

    public FeedPageException() => Feeds = [];

    /// <summary>The feeds the page links to.</summary>
    public IReadOnlyList<DiscoveredFeed> Feeds { get; }
}
