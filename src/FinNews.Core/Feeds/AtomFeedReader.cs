using System.Text;
using System.Text.Unicode;
using System.Xml.Linq;
using static FinNews.Core.Feeds.FeedXml;

namespace FinNews.Core.Feeds;

/// <summary>
/// Maps Atom 1.0 (RFC 4287) and the pre-standard Atom 0.3 documents, in their own namespaces or in any other whose
/// structure is Atom's (see <see cref="LooksLikeAtom"/>).
/// </summary>
internal static class AtomFeedReader
{
    private static readonly XNamespace Dc = FeedNamespaces.Dc;

    // Link relations that never name the page an entry is about.
    private static readonly HashSet<string> NotAPage = new(StringComparer.OrdinalIgnoreCase)
    {
        "self", "edit", "edit-media", "enclosure", "replies", "license", "hub", "next", "previous", "prev", "first", "last",
        "payment", "service.edit", "service.post", "service.feed", "icon", "logo",
    };

    /// <summary>
    /// True for a <c>&lt;feed&gt;</c> in a namespace other than Atom's whose children are Atom's: entries, or a title
    /// with an id, updated date or link. Feeds written with a misspelt or draft namespace URI are Atom all the same.
    /// </summary>
    public static bool LooksLikeAtom(XElement root)
    {
        var ns = root.Name.Namespace;
        if (root.Element(ns + "entry") is not null)
        {
            return true;
        }

        return root.Element(ns + "title") is not null
            && (root.Element(ns + "id") is not null || root.Element(ns + "updated") is not null || root.Element(ns + "modified") is not null || root.Element(ns + "link") is not null);
    }

    public static ParsedFeed Read(XElement feed, Uri? documentUri)
    {
        var ns = feed.Name.Namespace;
        var version = feed.Attribute("version")?.Value.Trim();
        var format = ns == FeedNamespaces.Atom03 || version == "0.3" || (ns != FeedNamespaces.Atom10 && ns.NamespaceName.Contains("purl.org/atom", StringComparison.OrdinalIgnoreCase))
            ? FeedFormat.Atom03
            : FeedFormat.Atom10;

        var feedAuthors = Authors(feed, ns);
        return new ParsedFeed(
            format,
            Title: TitleText(feed.Element(ns + "title")),
            Link: ChooseLink(feed, ns, documentUri),
            Description: HtmlConstruct(feed.Element(ns + "subtitle")) ?? HtmlConstruct(feed.Element(ns + "tagline")),
            Language: Attr(feed, XNamespace.Xml + "lang") ?? FirstText(feed, Dc + "language"),
            Updated: FirstDate(feed, ns + "updated", ns + "modified", Dc + "date").Value,
            Items: feed.Elements(ns + "entry").Select(entry => ReadEntry(entry, ns, feedAuthors, documentUri)).ToList())
        {
            Id = FirstText(feed, ns + "id"),
            SelfLink = feed.Elements(ns + "link").Where(l => string.Equals(Attr(l, "rel"), "self", StringComparison.OrdinalIgnoreCase))
                .Select(l => ResolveLink(l.Attribute("href")?.Value, l, documentUri)).FirstOrDefault(h => h is not null),
            Authors = feedAuthors,
        };
    }

    private static ParsedItem ReadEntry(XElement entry, XNamespace ns, List<FeedAuthor> feedAuthors, Uri? documentUri)
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
        foreach (var link in entry.Elements(ns + "link").Where(l => string.Equals(Attr(l, "rel"), "enclosure", StringComparison.OrdinalIgnoreCase)))
        {
            var url = ResolveLink(link.Attribute("href")?.Value ?? link.Value, link, documentUri);
            if (url is not null)
            {
                AddEnclosure(enclosures, new Enclosure(url, Attr(link, "type"), ParseLength(link.Attribute("length")?.Value)));
            }
        }

        foreach (var media in MediaContents(entry, documentUri))
        {
            AddEnclosure(enclosures, media);
        }

        // Atom 0.3 had issued (publication) and created; dc:date covers feeds that mix in Dublin Core.
        var published = FirstDate(entry, ns + "published", ns + "issued", Dc + "date", ns + "created");
        var updated = FirstDate(entry, ns + "updated", ns + "modified");
        return new ParsedItem(
            Id: FirstText(entry, ns + "id", Dc + "identifier"),
            Title: TitleText(entry.Element(ns + "title")) ?? PlainText(FirstText(entry, Dc + "title")),
            Link: ChooseLink(entry, ns, documentUri),
            Published: published.Value,
            Updated: updated.Value,
            Authors: authors,
            Summary: HtmlConstruct(entry.Element(ns + "summary")) ?? (FirstText(entry, Dc + "description") is { } dc ? HtmlEscape(dc) : null),
            Content: HtmlConstruct(entry.Element(ns + "content")),
            Categories: categories,
            Enclosures: enclosures)
        {
            DateIssue = published.Value is null && updated.Value is null ? Worst(published, updated) : DateIssue.None,
            BaseUri = BaseFor(entry, documentUri),
        };
    }

    private static List<FeedAuthor> Authors(XElement parent, XNamespace ns)
    {
        var authors = new List<FeedAuthor>();
        foreach (var author in parent.Elements(ns + "author"))
        {
            AddAuthor(authors, PersonConstruct(author, ns));
        }

        foreach (var creator in parent.Elements(Dc + "creator").Concat(parent.Elements(Dc + "author")))
        {
            AddAuthor(authors, Person(creator.Value));
        }

        return authors;
    }

    /// <summary>An Atom person construct (name, email, uri), or one written as bare text ("email (Name)" included).</summary>
    internal static FeedAuthor? PersonConstruct(XElement author, XNamespace ns)
    {
        if (!author.HasElements)
        {
            return Person(author.Value);
        }

        var name = PlainText(FirstText(author, ns + "name"));
        var email = FirstText(author, ns + "email");
        var uri = FirstText(author, ns + "uri", ns + "url");
        if (name is null && email is null && uri is null)
        {
            return null;
        }

        // A name written "email (Name)" inside <name> is split like RSS's author.
        if (email is null && name is not null && Person(name) is { Email: not null } split)
        {
            return split with { Uri = uri };
        }

        return new FeedAuthor(name, email, uri);
    }

    // The page an entry or feed points to, by relation: alternate (or no rel, which means alternate) with an HTML type
    // first, then any alternate, then related, via and any other relation that can name a page; a link that carries its
    // URL as text rather than in href counts too.
    private static string? ChooseLink(XElement parent, XNamespace ns, Uri? documentUri)
    {
        XElement? best = null;
        var bestRank = int.MaxValue;
        string? bestHref = null;
        foreach (var link in parent.Elements(ns + "link"))
        {
            var href = Attr(link, "href") ?? Text(link);
            if (href is null)
            {
                continue;
            }

            var rel = Attr(link, "rel")?.ToLowerInvariant() ?? "alternate";
            var type = Attr(link, "type")?.ToLowerInvariant();
            var rank = rel switch
            {
                "alternate" or "http://www.iana.org/assignments/relation/alternate" => type is "text/html" or "application/xhtml+xml" ? 0 : type is null ? 1 : 2,
                "related" => 3,
                "via" => 4,
                _ when !NotAPage.Contains(rel) => 5,
                _ => int.MaxValue,
            };
            if (rank < bestRank)
            {
                (best, bestRank, bestHref) = (link, rank, href);
            }
        }

        return best is null ? null : ResolveLink(bestHref, best, documentUri);
    }

    private enum Kind
    {
        Text,
        Html,
        Xml,
    }

    /// <summary>
    /// Decodes an Atom text construct (title, subtitle, summary, content, rights): its value and what kind of text it
    /// is. Atom 1.0: type text / html / xhtml, any other text/* as text, XML media types inline, every other media type
    /// base64 (RFC 4287 4.1.3.3). Atom 0.3: mode escaped / base64 / xml.
    /// </summary>
    private static (string Value, Kind Kind)? Decode(XElement? element)
    {
        if (element is null || element.Attribute("src") is not null)
        {
            // Out-of-line content (src="…") has no text in the document.
            return null;
        }

        var mode = Attr(element, "mode")?.ToLowerInvariant();
        var type = Attr(element, "type")?.ToLowerInvariant();
        var htmlType = type is "html" or "text/html";
        var xmlType = type is "xhtml" or "application/xhtml+xml" || (type is not null && (type.EndsWith("+xml", StringComparison.Ordinal) || type.EndsWith("/xml", StringComparison.Ordinal)));
        var textType = type is null or "text" or "text/plain" || (type.StartsWith("text/", StringComparison.Ordinal) && !htmlType && !xmlType);

        if (mode == "base64" || (!htmlType && !xmlType && !textType))
        {
            var (isBase64, decoded) = DecodeBase64(element.Value);
            if (!isBase64)
            {
                // Not base64 after all (many feeds declare a media type and write plain text): the text as given.
                return NullIfBlank(element.Value) is { } raw ? (raw, htmlType ? Kind.Html : Kind.Text) : null;
            }

            // Base64 of binary (an image) is nothing a reader can show as text.
            return decoded is null ? null : (decoded, htmlType || type?.Contains("html", StringComparison.Ordinal) == true ? Kind.Html : Kind.Text);
        }

        if (mode == "escaped")
        {
            // Atom 0.3: escaped markup, unless the type says it is plain text.
            var kind = textType && type is not null ? Kind.Text : Kind.Html;
            return NullIfBlank(element.Value) is { } escaped ? (escaped, kind) : null;
        }

        if (xmlType || element.HasElements)
        {
            // Atom 1.0 wraps XHTML in one xhtml:div that is not part of the content.
            var children = element.Elements().ToList();
            var inner = type == "xhtml" && children.Count == 1 && children[0].Name.LocalName == "div" ? children[0] : element;
            var kind = type is "xhtml" or "application/xhtml+xml" || children.Count == 0 ? Kind.Html : Kind.Xml;
            return NullIfBlank(InnerXml(inner)) is { } xml ? (xml, kind) : null;
        }

        return NullIfBlank(element.Value) is { } value ? (value, htmlType ? Kind.Html : Kind.Text) : null;
    }

    /// <summary>A text construct as plain text (titles): markup removed from HTML and XHTML, entities decoded.</summary>
    private static string? TitleText(XElement? element) => Decode(element) switch
    {
        null => null,
        (var value, Kind.Text) => PlainText(value),
        (var value, _) => NullIfBlank(HtmlText.TitleText(value)),
    };

    /// <summary>A text construct as HTML (summaries, content): plain text escaped, HTML and XML as given.</summary>
    internal static string? HtmlConstruct(XElement? element) => Decode(element) switch
    {
        null => null,
        (var value, Kind.Text) => HtmlEscape(value),
        (var value, _) => value,
    };

    // (true, text) for base64 of UTF-8 text, (true, null) for base64 of anything else, (false, null) for no base64.
    private static (bool IsBase64, string? Text) DecodeBase64(string value)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            return (false, null);
        }

        var buffer = new byte[(trimmed.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(trimmed, buffer, out var written))
        {
            return (false, null);
        }

        var bytes = buffer.AsSpan(0, written);
        return (true, Utf8.IsValid(bytes) && !bytes.Contains((byte)0) ? NullIfBlank(Encoding.UTF8.GetString(bytes)) : null);
    }
}
