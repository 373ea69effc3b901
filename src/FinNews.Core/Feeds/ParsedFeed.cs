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
}

/// <summary>A feed as read from one document, before normalization: every value as the publisher gave it.</summary>
/// <param name="Format">The recognised format.</param>
/// <param name="Title">Channel or feed title (plain text).</param>
/// <param name="Link">The site link, absolute where the document allows.</param>
/// <param name="Description">Channel description or Atom subtitle.</param>
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
    IReadOnlyList<ParsedItem> Items);

/// <summary>One entry of a feed: values as the publisher gave them, dates converted to UTC.</summary>
/// <param name="Id">guid / atom:id / rdf:about, or null when the item has none.</param>
/// <param name="Title">Title text; entities decoded, markup left as given.</param>
/// <param name="Link">The item's link, resolved against xml:base or the feed URL where relative.</param>
/// <param name="Published">pubDate / atom:published / atom:issued / dc:date, in UTC.</param>
/// <param name="Updated">atom:updated / atom:modified, in UTC.</param>
/// <param name="Authors">author / dc:creator / atom:author names (or e-mail when no name).</param>
/// <param name="Summary">description / atom:summary (may hold HTML).</param>
/// <param name="Content">content:encoded / atom:content (may hold HTML).</param>
/// <param name="Categories">category / dc:subject / atom:category terms.</param>
/// <param name="Enclosures">enclosure and media:content elements.</param>
/// <param name="Repaired">True when the document needed lenient repair (undefined entities, bare ampersands) to parse.</param>
public sealed record ParsedItem(
    string? Id,
    string? Title,
    string? Link,
    DateTimeOffset? Published,
    DateTimeOffset? Updated,
    IReadOnlyList<string> Authors,
    string? Summary,
    string? Content,
    IReadOnlyList<string> Categories,
    IReadOnlyList<Enclosure> Enclosures,
    bool Repaired = false);

/// <summary>An attached media file.</summary>
public sealed record Enclosure(string Url, string? Type, long? Length);

/// <summary>A document that could not be read as a feed; the message names the problem (and the source where known).</summary>
public sealed class FeedParseException : Exception
{
    public FeedParseException(string message) : base(message) { }
    public FeedParseException(string message, Exception inner) : base(message, inner) { }
    public FeedParseException() { }
}
