using System.Xml.Linq;
using static FinNews.Core.Feeds.FeedXml;

namespace FinNews.Core.Feeds;

/// <summary>Maps RSS 0.9x/2.0 (<c>&lt;rss&gt;</c>) and RSS 0.90/1.0 (<c>&lt;rdf:RDF&gt;</c>) documents.</summary>
internal static class RssFeedReader
{
    private static readonly XNamespace Dc = FeedNamespaces.Dc;

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
        // children use, whatever it is.
        var channel = root.Elements().FirstOrDefault(e => e.Name.LocalName == "channel");
        var ns = channel?.Name.Namespace ?? root.Name.Namespace;

        // Items belong in the channel, but a few generators close the channel early and write them after it.
        var items = (channel?.Elements(ns + "item") ?? []).Concat(root.Elements(ns + "item"));
        return Build(format, channel ?? root, ns, items, documentUri);
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
        return Build(format, channel ?? root, ns, items, documentUri);
    }

    private static ParsedFeed Build(FeedFormat format, XElement channel, XNamespace ns, IEnumerable<XElement> items, Uri? documentUri)
    {
        var linkElement = channel.Elements(ns + "link").FirstOrDefault(e => Text(e) is not null);
        var link = linkElement is not null
            ? ResolveLink(linkElement.Value, linkElement, documentUri)
            : AtomLink(channel, documentUri);

        return new ParsedFeed(
            format,
            Title: FirstText(channel, ns + "title", Dc + "title"),
            Link: link,
            Description: FirstText(channel, ns + "description", Dc + "description"),
            Language: FirstText(channel, ns + "language", Dc + "language"),
            Updated: FirstDate(channel, ns + "lastBuildDate", ns + "pubDate", Dc + "date", FeedNamespaces.Atom10 + "updated"),
            Items: items.Select(item => ReadItem(item, ns, documentUri)).ToList());
    }

    private static ParsedItem ReadItem(XElement item, XNamespace ns, Uri? documentUri)
    {
        var guidElement = item.Elements(ns + "guid").FirstOrDefault(e => Text(e) is not null);
        var guid = Text(guidElement);

        // RSS 1.0 identifies items by rdf:about; dc:identifier is the Dublin Core way to say the same.
        var id = guid ?? Attr(item, FeedNamespaces.Rdf + "about") ?? FirstText(item, Dc + "identifier");

        var linkElement = item.Elements(ns + "link").FirstOrDefault(e => Text(e) is not null);
        var link = linkElement is not null
            ? ResolveLink(linkElement.Value, linkElement, documentUri)
            : AtomLink(item, documentUri);
        if (link is null && guidElement is not null)
        {
            // RSS 2.0: a guid is a permalink unless isPermaLink="false" says otherwise; only trust it if it is a URL.
            var isPermaLink = guidElement.Attribute("isPermaLink")?.Value.Trim();
            if (!string.Equals(isPermaLink, "false", StringComparison.OrdinalIgnoreCase) && IsHttpUrl(guid))
            {
                link = guid;
            }
        }

        var authors = new List<string>();
        foreach (var author in item.Elements(ns + "author").Concat(item.Elements(Dc + "creator")))
        {
            AddDistinct(authors, author.Value);
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

        return new ParsedItem(
            Id: id,
            Title: FirstText(item, ns + "title", Dc + "title"),
            Link: link,
            Published: FirstDate(item, ns + "pubDate", Dc + "date", FeedNamespaces.Atom10 + "published", FeedNamespaces.DcTerms + "issued", FeedNamespaces.DcTerms + "created"),
            Updated: FirstDate(item, FeedNamespaces.Atom10 + "updated", FeedNamespaces.DcTerms + "modified"),
            Authors: authors,
            Summary: Markup(item.Elements(ns + "description").FirstOrDefault(e => !e.IsEmpty)) ?? FirstText(item, Dc + "description"),
            Content: Markup(item.Elements(FeedNamespaces.Content + "encoded").FirstOrDefault(e => !e.IsEmpty)),
            Categories: categories,
            Enclosures: enclosures);
    }

    // RSS documents sometimes carry their links only as atom:link (rel alternate or none).
    private static string? AtomLink(XElement parent, Uri? documentUri)
    {
        var link = parent.Elements(FeedNamespaces.Atom10 + "link")
            .FirstOrDefault(l => (Attr(l, "rel") ?? "alternate") == "alternate" && Attr(l, "href") is not null);
        return link is null ? null : ResolveLink(link.Attribute("href")!.Value, link, documentUri);
    }
}
