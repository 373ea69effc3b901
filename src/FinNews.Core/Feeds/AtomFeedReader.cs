using System.Text;
using System.Xml.Linq;
using static FinNews.Core.Feeds.FeedXml;

namespace FinNews.Core.Feeds;

/// <summary>Maps Atom 1.0 (RFC 4287) and the pre-standard Atom 0.3 documents.</summary>
internal static class AtomFeedReader
{
    private static readonly XNamespace Dc = FeedNamespaces.Dc;

    public static ParsedFeed Read(XElement feed, Uri? documentUri)
    {
        var ns = feed.Name.Namespace;
        var format = ns == FeedNamespaces.Atom03 || (ns == XNamespace.None && feed.Attribute("version")?.Value.Trim() == "0.3")
            ? FeedFormat.Atom03
            : FeedFormat.Atom10;

        var feedAuthors = Authors(feed, ns);
        return new ParsedFeed(
            format,
            Title: TextConstruct(feed.Element(ns + "title")),
            Link: AlternateLink(feed, ns, documentUri),
            Description: TextConstruct(feed.Element(ns + "subtitle")) ?? TextConstruct(feed.Element(ns + "tagline")),
            Language: Attr(feed, XNamespace.Xml + "lang") ?? FirstText(feed, Dc + "language"),
            Updated: FirstDate(feed, ns + "updated", ns + "modified", Dc + "date"),
            Items: feed.Elements(ns + "entry").Select(entry => ReadEntry(entry, ns, feedAuthors, documentUri)).ToList());
    }

    private static ParsedItem ReadEntry(XElement entry, XNamespace ns, List<string> feedAuthors, Uri? documentUri)
    {
        // RFC 4287 4.2.1: an entry without authors inherits those of its atom:source, then of the feed.
        var authors = Authors(entry, ns);
        if (authors.Count == 0 && entry.Element(ns + "source") is { } source)
        {
            authors = Authors(source, ns);
        }

        if (authors.Count == 0)
        {
            authors = [.. feedAuthors];
        }

        var categories = new List<string>();
        foreach (var category in entry.Elements(ns + "category"))
        {
            AddDistinct(categories, category.Attribute("term")?.Value ?? category.Attribute("label")?.Value ?? category.Value);
        }

        foreach (var subject in entry.Elements(Dc + "subject"))
        {
            AddDistinct(categories, subject.Value);
        }

        var enclosures = new List<Enclosure>();
        foreach (var link in entry.Elements(ns + "link").Where(l => Attr(l, "rel") == "enclosure"))
        {
            var url = ResolveLink(link.Attribute("href")?.Value, link, documentUri);
            if (url is not null)
            {
                AddEnclosure(enclosures, new Enclosure(url, Attr(link, "type"), ParseLength(link.Attribute("length")?.Value)));
            }
        }

        foreach (var media in MediaContents(entry, documentUri))
        {
            AddEnclosure(enclosures, media);
        }

        return new ParsedItem(
            Id: FirstText(entry, ns + "id", Dc + "identifier"),
            Title: TextConstruct(entry.Element(ns + "title")) ?? FirstText(entry, Dc + "title"),
            Link: AlternateLink(entry, ns, documentUri),

            // Atom 0.3 had issued (publication) and created; dc:date covers feeds that mix in Dublin Core.
            Published: FirstDate(entry, ns + "published", ns + "issued", Dc + "date", ns + "created"),
            Updated: FirstDate(entry, ns + "updated", ns + "modified"),
            Authors: authors,
            Summary: TextConstruct(entry.Element(ns + "summary")) ?? FirstText(entry, Dc + "description"),
            Content: TextConstruct(entry.Element(ns + "content")),
            Categories: categories,
            Enclosures: enclosures);
    }

    private static List<string> Authors(XElement parent, XNamespace ns)
    {
        var authors = new List<string>();
        foreach (var author in parent.Elements(ns + "author"))
        {
            // A person construct names the author; some feeds give only an e-mail, a few only bare text.
            AddDistinct(authors, FirstText(author, ns + "name") ?? FirstText(author, ns + "email") ?? (author.HasElements ? null : author.Value));
        }

        foreach (var creator in parent.Elements(Dc + "creator"))
        {
            AddDistinct(authors, creator.Value);
        }

        return authors;
    }

    // The page an entry points to: rel="alternate" (or no rel, which means alternate), HTML preferred over other types.
    private static string? AlternateLink(XElement parent, XNamespace ns, Uri? documentUri)
    {
        var alternates = parent.Elements(ns + "link")
            .Where(l => (Attr(l, "rel") ?? "alternate").Equals("alternate", StringComparison.OrdinalIgnoreCase) && Attr(l, "href") is not null)
            .ToList();

        var best = alternates.FirstOrDefault(l => Attr(l, "type") is "text/html" or "application/xhtml+xml")
            ?? alternates.FirstOrDefault(l => Attr(l, "type") is null)
            ?? alternates.FirstOrDefault();

        return best is null ? null : ResolveLink(best.Attribute("href")!.Value, best, documentUri);
    }

    /// <summary>
    /// Reads an Atom text construct (title, summary, content…): text and HTML as their decoded value, XHTML and other
    /// XML as inner markup. Atom 0.3 mode="escaped" and mode="base64" are honoured.
    /// </summary>
    internal static string? TextConstruct(XElement? element)
    {
        if (element is null || element.Attribute("src") is not null)
        {
            // Out-of-line content (src="…") has no text in the document.
            return null;
        }

        var mode = Attr(element, "mode");
        var type = Attr(element, "type")?.ToLowerInvariant();
        if (string.Equals(mode, "base64", StringComparison.OrdinalIgnoreCase))
        {
            return NullIfBlank(DecodeBase64(element.Value));
        }

        if (string.Equals(mode, "escaped", StringComparison.OrdinalIgnoreCase))
        {
            return NullIfBlank(element.Value);
        }

        if (type is "xhtml" or "application/xhtml+xml" || element.HasElements)
        {
            // Atom 1.0 wraps XHTML in one xhtml:div that is not part of the content.
            var children = element.Elements().ToList();
            var inner = type == "xhtml" && children.Count == 1 && children[0].Name == FeedNamespaces.Xhtml + "div"
                ? children[0]
                : element;
            return NullIfBlank(InnerXml(inner));
        }

        if (type is not null && type is not ("text" or "html" or "text/plain" or "text/html")
            && !type.StartsWith("text/", StringComparison.Ordinal) && !type.EndsWith("xml", StringComparison.Ordinal))
        {
            // Any other media type is base64 by RFC 4287 4.1.3.3: binary, not text a reader can show.
            return null;
        }

        return NullIfBlank(element.Value);
    }

    private static string? DecodeBase64(string value)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(value.Trim()));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
