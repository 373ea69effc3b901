using System.Xml.Linq;
using static FinNews.Core.Feeds.FeedXml;

namespace FinNews.Core.Feeds;

/// <summary>Maps RSS 0.9x/2.0 (<c>&lt;rss&gt;</c>) and RSS 0.90/1.0 (<c>&lt;rdf:RDF&gt;</c>) documents.</summary>
internal static class RssFeedReader
{
    private static readonly XNamespace Dc = FeedNamespaces.Dc;
    private static readonly XNamespace Atom = FeedNamespaces.Atom10;

    public static ParsedFeed ReadRss(XElement root, Uri? documentUri)
    {
        var format = (root.Attribute("version")?.Value.Trim() ?? string.Empty) switch
        {
            "0.90" or "0.9" => FeedFormat.Rss090,
            "0.91" => FeedFormat.Rss091,
            "0.92" or "0.93" or "0.94" => FeedFormat.Rss092,

            // 2.0, 2.0.1, and the many feeds with no version attribute at all.
            _ => FeedFormat.Rss20,
        };

        // Some feeds put <channel> in a default namespace of their own; the channel's namespace is the one its
        // children use, whatever it is. A document with no <channel> at all is read from the root.
        var channel = root.Elements().FirstOrDefault(e => e.Name.LocalName == "channel");
        var ns = channel?.Name.Namespace ?? root.Name.Namespace;

        // Items belong in the channel, but a few generators close the channel early and write them after it.
        var items = (channel?.Elements(ns + "item") ?? []).Concat(root.Elements(ns + "item"));
        return Build(format, channel ?? root, ns, items, documentUri, rdf: false);
    }

    public static ParsedFeed ReadRdf(XElement root, Uri? documentUri)
    {
        // RSS 1.0 and 0.90 differ only in their namespace; items are siblings of the channel, not children.
        var channel = root.Elements().FirstOrDefault(e => e.Name.LocalName == "channel");
        var ns = channel?.Name.Namespace
            ?? root.Elements().FirstOrDefault(e => e.Name.LocalName == "item")?.Name.Namespace
            ?? FeedNamespaces.Rss10;
        var format = ns == FeedNamespaces.Rss090 ? FeedFormat.Rss090 : FeedFormat.Rss10;
        var items = root.Elements(ns + "item").Concat(channel?.Elements(ns + "item") ?? []);
        return Build(format, channel ?? root, ns, items, documentUri, rdf: true);
    }

    private static ParsedFeed Build(FeedFormat format, XElement channel, XNamespace ns, IEnumerable<XElement> items, Uri? documentUri, bool rdf)
    {
        var authors = new List<FeedAuthor>();
        foreach (var person in channel.Elements(ns + "managingEditor").Concat(channel.Elements(Dc + "creator"))
                     .Concat(channel.Elements(Dc + "author")).Concat(channel.Elements(FeedNamespaces.Itunes + "author")))
        {
            AddAuthor(authors, Person(person.Value));
        }

        return new ParsedFeed(
            format,
            Title: TitleOf(FirstText(channel, ns + "title", Dc + "title")),
            Link: Link(channel, ns, documentUri, guidElement: null),
            Description: FirstText(channel, ns + "description", Dc + "description", FeedNamespaces.Itunes + "summary"),
            Language: FirstText(channel, ns + "language", Dc + "language"),
            Updated: FirstDate(channel, ns + "lastBuildDate", ns + "pubDate", Dc + "date", Atom + "updated").Value,
            Items: items.Select(item => ReadItem(item, ns, documentUri)).ToList())
        {
            // RSS 2.0 has no feed identifier; RSS 1.0 identifies the channel by rdf:about, and some RSS 2.0 feeds
            // carry an atom:id.
            Id = (rdf ? Attr(channel, FeedNamespaces.Rdf + "about") : null) ?? FirstText(channel, Atom + "id"),
            SelfLink = AtomLink(channel, documentUri, "self"),
            Authors = authors,
        };
    }

    private static ParsedItem ReadItem(XElement item, XNamespace ns, Uri? documentUri)
    {
        var guidElement = item.Elements(ns + "guid").FirstOrDefault(e => Text(e) is not null);
        var guid = Text(guidElement);

        // RSS 1.0 identifies items by rdf:about; dc:identifier and atom:id are the Dublin Core and Atom ways to say the same.
        var rdfAbout = Attr(item, FeedNamespaces.Rdf + "about");
        var id = guid ?? rdfAbout ?? FirstText(item, Dc + "identifier", Atom + "id");

        var link = Link(item, ns, documentUri, guidElement) ?? (IsHttpUrl(rdfAbout) ? rdfAbout : null);

        var authors = new List<FeedAuthor>();
        foreach (var person in item.Elements(ns + "author").Concat(item.Elements(Dc + "creator")).Concat(item.Elements(Dc + "author"))
                     .Concat(item.Elements(FeedNamespaces.Itunes + "author")))
        {
            AddAuthor(authors, Person(person.Value));
        }

        foreach (var atomAuthor in item.Elements(Atom + "author"))
        {
            AddAuthor(authors, AtomFeedReader.PersonConstruct(atomAuthor, Atom));
        }

        var categories = new List<string>();
        foreach (var category in item.Elements(ns + "category").Concat(item.Elements(Dc + "subject")))
        {
            AddDistinct(categories, category.Value);
        }

        var enclosures = new List<Enclosure>();
        foreach (var enclosure in item.Elements(ns + "enclosure"))
        {
            var url = ResolveLink(enclosure.Attribute("url")?.Value, enclosure, documentUri);
            if (url is not null)
            {
                AddEnclosure(enclosures, new Enclosure(url, Attr(enclosure, "type"), ParseLength(enclosure.Attribute("length")?.Value)));
            }
        }

        foreach (var media in MediaContents(item, documentUri))
        {
            AddEnclosure(enclosures, media);
        }

        var published = FirstDate(item, ns + "pubDate", Dc + "date", Atom + "published", FeedNamespaces.DcTerms + "issued", FeedNamespaces.DcTerms + "created");
        var updated = FirstDate(item, Atom + "updated", FeedNamespaces.DcTerms + "modified");
        return new ParsedItem(
            Id: id,
            Title: TitleOf(FirstText(item, ns + "title", Dc + "title")),
            Link: link,
            Published: published.Value,
            Updated: updated.Value,
            Authors: authors,
            Summary: Markup(item.Elements(ns + "description").FirstOrDefault(e => !e.IsEmpty)) ?? FirstText(item, Dc + "description")
                ?? (FirstText(item, FeedNamespaces.Itunes + "summary") is { } itunes ? HtmlEscape(itunes) : null),
            Content: Markup(item.Elements(FeedNamespaces.Content + "encoded").FirstOrDefault(e => !e.IsEmpty)),
            Categories: categories,
            Enclosures: enclosures)
        {
            DateIssue = published.Value is null && updated.Value is null ? Worst(published, updated) : DateIssue.None,
            BaseUri = BaseFor(item, documentUri),
        };
    }

    // RSS titles are HTML in practice (entities, the odd <b> or <div>): shown as plain text.
    private static string? TitleOf(string? title) => title is null ? null : FeedXml.NullIfBlank(HtmlText.TitleText(title));

    // The page an item (or channel) points to, by the fallbacks readers use: <link> text, a <link href="…"> written
    // Atom-style, atom:link rel="alternate", the guid when it is a permalink URL.
    private static string? Link(XElement parent, XNamespace ns, Uri? documentUri, XElement? guidElement)
    {
        foreach (var element in parent.Elements(ns + "link"))
        {
            var href = Text(element) ?? Attr(element, "href");
            if (href is not null)
            {
                return ResolveLink(href, element, documentUri);
            }
        }

        var atom = AtomLink(parent, documentUri, "alternate");
        if (atom is not null || guidElement is null)
        {
            return atom;
        }

        // RSS 2.0: a guid is a permalink unless isPermaLink="false" says otherwise; only trusted if it is a URL.
        var guid = Text(guidElement);
        var isPermaLink = guidElement.Attribute("isPermaLink")?.Value.Trim();
        return !string.Equals(isPermaLink, "false", StringComparison.OrdinalIgnoreCase) && IsHttpUrl(guid) ? guid : null;
    }

    // RSS documents sometimes carry their links only as atom:link (rel alternate or none), and their own URL as rel="self".
    private static string? AtomLink(XElement parent, Uri? documentUri, string rel)
    {
        var link = parent.Elements(Atom + "link")
            .FirstOrDefault(l => (Attr(l, "rel") ?? "alternate") == rel && Attr(l, "href") is not null);
        return link is null ? null : ResolveLink(link.Attribute("href")!.Value, link, documentUri);
    }
}
