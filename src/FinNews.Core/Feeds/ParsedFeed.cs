namespace FinNews.Core.Feeds;

/// <summary>The syndication format a document was recognised as.</summary>
public enum FeedFormat
{
    Rss090,
    Rss091,
    Rss092,
    Rss20,
    Rss10,
    Atom03,
    Atom10,
    JsonFeed10,
    JsonFeed11,
}

/// <summary>Why a date the feed gave was not used (the item then has no date from the feed, never a guessed one).</summary>
public enum DateIssue
{
    /// <summary>Every date the feed gave was read (or it gave none).</summary>
    None,

    /// <summary>A date was given in no format a feed reader knows (or an ambiguous one such as 03/04/2025).</summary>
    Unreadable,

    /// <summary>A date was given in a known format but names no real instant (30 February, hour 25, month 13).</summary>
    Impossible,
}

/// <summary>A person named by a feed: author, dc:creator, dc:author, itunes:author, atom:author, JSON Feed author.</summary>
/// <param name="Name">The name, when the feed gives one.</param>
/// <param name="Email">The e-mail address, when the feed gives one (RSS "email (Name)", atom:email).</param>
/// <param name="Uri">A web address for the person (atom:uri, JSON Feed url).</param>
public sealed record FeedAuthor(string? Name, string? Email = null, string? Uri = null)
{
    /// <summary>What to show: the name, else the e-mail address, else the web address.</summary>
    public string Display => Name ?? Email ?? Uri ?? "";
}

/// <summary>A feed as read from one document, before normalization.</summary>
/// <param name="Format">The recognised format.</param>
/// <param name="Title">Channel or feed title, plain text (tags stripped, entities decoded).</param>
/// <param name="Link">The site link, absolute where the document allows.</param>
/// <param name="Description">Channel description or Atom subtitle (HTML as given; text constructs are HTML-escaped).</param>
/// <param name="Language">Declared language, if any.</param>
/// <param name="Updated">Channel-level last update (lastBuildDate, pubDate, atom:updated, dc:date) in UTC.</param>
/// <param name="Items">Entries in document order.</param>
public sealed record ParsedFeed(
    FeedFormat Format,
    string? Title,
    string? Link,
    string? Description,
    string? Language,
    DateTimeOffset? Updated,
    IReadOnlyList<ParsedItem> Items)
{
    /// <summary>The feed's own identifier: atom:id, the RSS 1.0 channel's rdf:about, a JSON Feed's feed_url.</summary>
    public string? Id { get; init; }

    /// <summary>Where the feed says it lives (atom:link rel="self", JSON Feed feed_url), resolved.</summary>
    public string? SelfLink { get; init; }

    /// <summary>Feed-level authors (managingEditor, atom:author, itunes:author, JSON Feed authors).</summary>
    public IReadOnlyList<FeedAuthor> Authors { get; init; } = [];

    /// <summary>True when the feed-level text needed mojibake repair.</summary>
    public bool Repaired { get; init; }
}

/// <summary>One entry of a feed: values as the publisher gave them, normalized only where a reader must (UTC dates, plain titles).</summary>
/// <param name="Id">guid / atom:id / rdf:about / JSON Feed id, or null when the item has none.</param>
/// <param name="Title">Title as plain text: markup removed, entities decoded, whitespace collapsed.</param>
/// <param name="Link">The item's link by rel priority, resolved against xml:base or the feed URL where relative.</param>
/// <param name="Published">pubDate / atom:published / atom:issued / dc:date / date_published, in UTC.</param>
/// <param name="Updated">atom:updated / atom:modified / date_modified, in UTC.</param>
/// <param name="Authors">author / dc:creator / dc:author / itunes:author / atom:author, as name and e-mail.</param>
/// <param name="Summary">description / atom:summary / JSON Feed summary as HTML exactly as given (text constructs HTML-escaped); untrusted: use <see cref="SafeSummary"/> or <see cref="SummaryText"/>.</param>
/// <param name="Content">content:encoded / atom:content / JSON Feed content_html, as <paramref name="Summary"/>.</param>
/// <param name="Categories">category / dc:subject / atom:category terms / JSON Feed tags.</param>
/// <param name="Enclosures">enclosure, media:content, atom rel="enclosure" and JSON Feed attachments.</param>
/// <param name="Repaired">True when the document needed lenient repair (undefined entities, bare ampersands) or the item's text mojibake repair.</param>
public sealed record ParsedItem(
    string? Id,
    string? Title,
    string? Link,
    DateTimeOffset? Published,
    DateTimeOffset? Updated,
    IReadOnlyList<FeedAuthor> Authors,
    string? Summary,
    string? Content,
    IReadOnlyList<string> Categories,
    IReadOnlyList<Enclosure> Enclosures,
    bool Repaired = false)
{
    /// <summary>Set when a date the item gave could not be used (<see cref="DateIssue"/>); its date is then null, never guessed.</summary>
    public DateIssue DateIssue { get; init; }

    /// <summary>The base URI in effect at the item (xml:base, else the feed URL): relative links in its HTML resolve against it.</summary>
    public Uri? BaseUri { get; init; }

    // Derived on demand, not stored: parsing stays cheap for callers that need only some fields, and a record's
    // equality stays that of the values the feed gave.

    /// <summary><see cref="Summary"/> sanitized: only harmless markup; links and images only over http(s), resolved against <see cref="BaseUri"/>.</summary>
    public string? SafeSummary => Summary is null ? null : HtmlText.Sanitize(Summary, BaseUri);

    /// <summary><see cref="Content"/> sanitized as <see cref="SafeSummary"/>.</summary>
    public string? SafeContent => Content is null ? null : HtmlText.Sanitize(Content, BaseUri);

    /// <summary><see cref="Summary"/> as plain text.</summary>
    public string SummaryText => HtmlText.ToText(Summary);

    /// <summary><see cref="Content"/> as plain text.</summary>
    public string ContentText => HtmlText.ToText(Content);
}

/// <summary>An attached media file.</summary>
public sealed record Enclosure(string Url, string? Type, long? Length);

/// <summary>A document that could not be read as a feed; the message names the problem (and the source where known).</summary>
public class FeedParseException : Exception
{
    public FeedParseException(string message) : base(message) { }
    public FeedParseException(string message, Exception inner) : base(message, inner) { }
    public FeedParseException() { }
}
