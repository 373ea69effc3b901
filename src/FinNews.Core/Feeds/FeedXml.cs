using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace FinNews.Core.Feeds;

/// <summary>Namespaces of the formats and extension modules the readers understand.</summary>
internal static class FeedNamespaces
{
    public static readonly XNamespace Atom10 = "http://www.w3.org/2005/Atom";
    public static readonly XNamespace Atom03 = "http://purl.org/atom/ns#";
    public static readonly XNamespace Rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
    public static readonly XNamespace Rss10 = "http://purl.org/rss/1.0/";
    public static readonly XNamespace Rss090 = "http://my.netscape.com/rdf/simple/0.9/";
    public static readonly XNamespace Dc = "http://purl.org/dc/elements/1.1/";
    public static readonly XNamespace DcTerms = "http://purl.org/dc/terms/";
    public static readonly XNamespace Content = "http://purl.org/rss/1.0/modules/content/";
    public static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";

    // Media RSS is published both with and without the trailing slash.
    public static readonly XNamespace Media = "http://search.yahoo.com/mrss/";
    public static readonly XNamespace MediaNoSlash = "http://search.yahoo.com/mrss";
}

/// <summary>Small LINQ to XML helpers shared by the RSS and Atom readers.</summary>
internal static partial class FeedXml
{
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.\-]*:")]
    private static partial Regex SchemePrefix();

    /// <summary>The trimmed text of <paramref name="element"/>, or null when it is missing or blank.</summary>
    public static string? Text(XElement? element) => NullIfBlank(element?.Value);

    public static string? NullIfBlank(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var trimmed = value.Trim();
        return trimmed.Length == 0 ? null : trimmed;
    }

    /// <summary>The first non-blank text among the children named <paramref name="names"/>, tried in order.</summary>
    public static string? FirstText(XElement parent, params XName[] names)
    {
        foreach (var name in names)
        {
            foreach (var child in parent.Elements(name))
            {
                var text = Text(child);
                if (text is not null)
                {
                    return text;
                }
            }
        }

        return null;
    }

    public static DateTimeOffset? FirstDate(XElement parent, params XName[] names)
    {
        foreach (var name in names)
        {
            foreach (var child in parent.Elements(name))
            {
                var date = FeedDates.Parse(child.Value);
                if (date is not null)
                {
                    return date;
                }
            }
        }

        return null;
    }

    public static string? Attr(XElement element, XName name) => NullIfBlank(element.Attribute(name)?.Value);

    /// <summary>
    /// The base URI in effect at <paramref name="element"/>: the document URL, refined by every xml:base from the root
    /// down (each one relative to the base above it, as XML Base specifies).
    /// </summary>
    public static Uri? BaseFor(XElement element, Uri? documentUri)
    {
        var bases = element.AncestorsAndSelf()
            .Select(e => e.Attribute(XNamespace.Xml + "base")?.Value.Trim())
            .Where(b => !string.IsNullOrEmpty(b))
            .Reverse();

        var current = documentUri is { IsAbsoluteUri: true } ? documentUri : null;
        foreach (var b in bases)
        {
            if (IsAbsolute(b!) && Uri.TryCreate(b, UriKind.Absolute, out var absolute))
            {
                current = absolute;
            }
            else if (current is not null && Uri.TryCreate(current, b, out var combined))
            {
                current = combined;
            }
        }

        return current;
    }

    /// <summary>
    /// Resolves <paramref name="href"/> against the base in effect at <paramref name="context"/>. Absolute links are
    /// returned as written (no re-escaping), relative ones resolved where a base is known and kept as given otherwise.
    /// </summary>
    public static string? ResolveLink(string? href, XElement context, Uri? documentUri)
    {
        href = NullIfBlank(href);
        if (href is null || IsAbsolute(href))
        {
            return href;
        }

        var baseUri = BaseFor(context, documentUri);
        return baseUri is not null && Uri.TryCreate(baseUri, href, out var resolved) ? resolved.AbsoluteUri : href;
    }

    // Uri.TryCreate(UriKind.Absolute) accepts "/path" as a file URI on Unix, so "absolute" means "has a scheme".
    public static bool IsAbsolute(string link) => SchemePrefix().IsMatch(link);

    public static bool IsHttpUrl(string? value) =>
        value is not null
        && (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        && Uri.TryCreate(value, UriKind.Absolute, out _);

    /// <summary>
    /// The markup inside <paramref name="element"/> as a string. Elements in the feed's own or the XHTML namespace are
    /// written without a namespace so consumers see plain HTML, not <c>&lt;p xmlns="…"&gt;</c>.
    /// </summary>
    public static string InnerXml(XElement element)
    {
        var unwrap = new HashSet<XNamespace> { FeedNamespaces.Xhtml, FeedNamespaces.Atom10, FeedNamespaces.Atom03, element.Name.Namespace };

        // Work on a copy, renaming in place with a flat walk: hostile content can nest elements deeply enough to
        // overflow the stack of a recursive rewrite, and a stack overflow cannot be caught.
        var copy = new XElement(element);
        foreach (var e in copy.Descendants().ToList())
        {
            if (unwrap.Contains(e.Name.Namespace))
            {
                e.Name = XName.Get(e.Name.LocalName);
            }

            // Serialization re-declares whatever prefixes are still in use.
            e.Attributes().Where(a => a.IsNamespaceDeclaration).Remove();
        }

        return string.Concat(copy.Nodes().Select(n => n.ToString(SaveOptions.DisableFormatting))).Trim();
    }

    /// <summary>Markup-bearing text (description, content:encoded): inner XML when a publisher embedded raw XHTML elements, else the text.</summary>
    public static string? Markup(XElement? element) =>
        element is null ? null : element.HasElements ? NullIfBlank(InnerXml(element)) : Text(element);

    /// <summary>Adds <paramref name="value"/> unless blank or already present (ordinal): feeds often repeat terms.</summary>
    public static void AddDistinct(List<string> list, string? value)
    {
        value = NullIfBlank(value);
        if (value is not null && !list.Contains(value, StringComparer.Ordinal))
        {
            list.Add(value);
        }
    }

    public static long? ParseLength(string? value) =>
        long.TryParse(value?.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : null;

    /// <summary>media:content elements (also inside media:group) as enclosures; thumbnails are artwork, not media.</summary>
    public static IEnumerable<Enclosure> MediaContents(XElement item, Uri? documentUri)
    {
        foreach (var ns in new[] { FeedNamespaces.Media, FeedNamespaces.MediaNoSlash })
        {
            var contents = item.Elements(ns + "content")
                .Concat(item.Elements(ns + "group").Elements(ns + "content"));
            foreach (var content in contents)
            {
                var url = ResolveLink(content.Attribute("url")?.Value, content, documentUri);
                if (url is not null)
                {
                    yield return new Enclosure(url, Attr(content, "type"), ParseLength(content.Attribute("fileSize")?.Value));
                }
            }
        }
    }

    public static void AddEnclosure(List<Enclosure> list, Enclosure enclosure)
    {
        if (!list.Exists(e => string.Equals(e.Url, enclosure.Url, StringComparison.Ordinal)))
        {
            list.Add(enclosure);
        }
    }
}
