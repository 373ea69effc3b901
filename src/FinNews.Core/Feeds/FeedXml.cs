using System.Text;
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
    public static readonly XNamespace Itunes = "http://www.itunes.com/dtds/podcast-1.0.dtd";

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

    /// <summary>
    /// The first readable date among the children named <paramref name="names"/>, tried in order. When none reads but
    /// one was given, the result carries the first one's <see cref="DateIssue"/> (and no value: nothing is guessed).
    /// </summary>
    public static FeedDate FirstDate(XElement parent, params XName[] names)
    {
        var issue = DateIssue.None;
        foreach (var name in names)
        {
            foreach (var child in parent.Elements(name))
            {
                var date = FeedDates.Read(child.Value);
                if (date.Value is not null)
                {
                    return date;
                }

                if (issue == DateIssue.None)
                {
                    issue = date.Issue;
                }
            }
        }

        return new FeedDate(null, issue);
    }

    /// <summary>The worse of two date readings' issues, for an item that has a published and an updated date.</summary>
    public static DateIssue Worst(FeedDate a, FeedDate b) => (DateIssue)Math.Max((int)a.Issue, (int)b.Issue);

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
    /// The markup inside <paramref name="element"/> as an HTML string. Elements in the feed's own or the XHTML namespace
    /// are written without a namespace so consumers see plain HTML, not <c>&lt;p xmlns="…"&gt;</c>; others keep their
    /// prefix. Namespace declarations are left out; text (CDATA included) and attribute values are escaped.
    /// </summary>
    public static string InnerXml(XElement element)
    {
        var sb = new StringBuilder();
        var feedNs = element.Name.Namespace;

        // A flat walk over the tree (first child, next sibling, back up through parents): hostile content can nest
        // elements deeply enough to overflow the stack of a recursive writer, and a stack overflow cannot be caught.
        var node = element.FirstNode;
        while (node is not null)
        {
            if (node is XElement e)
            {
                var name = QualifiedName(e, feedNs);
                sb.Append('<').Append(name);
                foreach (var attribute in e.Attributes())
                {
                    if (attribute.IsNamespaceDeclaration)
                    {
                        continue;
                    }

                    sb.Append(' ');
                    if (attribute.Name.Namespace != XNamespace.None)
                    {
                        sb.Append(attribute.Name.Namespace == XNamespace.Xml ? "xml" : e.GetPrefixOfNamespace(attribute.Name.Namespace) ?? "ns").Append(':');
                    }

                    sb.Append(attribute.Name.LocalName).Append("=\"");
                    Escape(sb, attribute.Value, quotes: true);
                    sb.Append('"');
                }

                if (e.FirstNode is { } child)
                {
                    sb.Append('>');
                    node = child;
                    continue;
                }

                sb.Append(VoidElements.Contains(e.Name.LocalName) ? " />" : $"></{name}>");
            }
            else if (node is XText text)
            {
                Escape(sb, text.Value, quotes: false);
            }

            // Next: the sibling, or climb and close parents until one has a sibling (stopping at the element itself).
            while (node.NextNode is null)
            {
                var parent = node.Parent;
                if (parent is null || parent == element)
                {
                    return sb.ToString().Trim();
                }

                sb.Append("</").Append(QualifiedName(parent, feedNs)).Append('>');
                node = parent;
            }

            node = node.NextNode;
        }

        return sb.ToString().Trim();
    }

    private static readonly HashSet<string> VoidElements = new(StringComparer.OrdinalIgnoreCase)
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
    };

    private static string QualifiedName(XElement e, XNamespace feedNs)
    {
        var ns = e.Name.Namespace;
        if (ns == XNamespace.None || ns == feedNs || ns == FeedNamespaces.Xhtml || ns == FeedNamespaces.Atom10 || ns == FeedNamespaces.Atom03)
        {
            return e.Name.LocalName;
        }

        return e.GetPrefixOfNamespace(ns) is { Length: > 0 } prefix ? $"{prefix}:{e.Name.LocalName}" : e.Name.LocalName;
    }

    private static void Escape(StringBuilder sb, string text, bool quotes)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var replacement = text[i] switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' when quotes => "&quot;",
                _ => null,
            };
            if (replacement is not null)
            {
                sb.Append(text, start, i - start).Append(replacement);
                start = i + 1;
            }
        }

        sb.Append(text, start, text.Length - start);
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

    /// <summary>
    /// A person as a feed writes one in text: "email (Name)" (RSS 2.0), "Name &lt;email&gt;", "Name (email)", a bare
    /// address or a bare name. Null when blank.
    /// </summary>
    public static FeedAuthor? Person(string? text)
    {
        text = NullIfBlank(text);
        if (text is null)
        {
            return null;
        }

        text = Whitespace().Replace(text, " ");
        var m = EmailThenName().Match(text);
        if (m.Success)
        {
            return new FeedAuthor(NullIfBlank(m.Groups["name"].Value), m.Groups["email"].Value);
        }

        m = NameThenEmail().Match(text);
        if (m.Success)
        {
            return new FeedAuthor(NullIfBlank(m.Groups["name"].Value.Trim('"', ' ')), m.Groups["email"].Value);
        }

        return BareEmail().IsMatch(text) ? new FeedAuthor(null, text.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? text[7..] : text) : new FeedAuthor(text);
    }

    /// <summary>Adds <paramref name="author"/> unless null or already present (same name and e-mail).</summary>
    public static void AddAuthor(List<FeedAuthor> list, FeedAuthor? author)
    {
        if (author is null || list.Contains(author))
        {
            return;
        }

        // "Jane Roe" from dc:creator and "jane@x (Jane Roe)" from author are one person: keep the fuller one.
        var same = list.FindIndex(a => a.Name is not null && string.Equals(a.Name, author.Name, StringComparison.Ordinal));
        if (same >= 0)
        {
            if (list[same].Email is null && author.Email is not null)
            {
                list[same] = author;
            }

            return;
        }

        list.Add(author);
    }

    [GeneratedRegex(@"^(?:mailto:)?(?<email>[^\s@()<>]+@[^\s@()<>]+)\s*\((?<name>[^()]*)\)$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailThenName();

    [GeneratedRegex(@"^(?<name>[^<>()]*?)\s*[<(](?:mailto:)?(?<email>[^\s@()<>]+@[^\s@()<>]+)[>)]$", RegexOptions.CultureInvariant)]
    private static partial Regex NameThenEmail();

    [GeneratedRegex(@"^(?:mailto:)?[^\s@()<>]+@[^\s@()<>]+\.[^\s@()<>]+$", RegexOptions.CultureInvariant)]
    private static partial Regex BareEmail();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>Plain text escaped for HTML: only the characters that would otherwise be read as markup.</summary>
    public static string HtmlEscape(string text)
    {
        if (text.AsSpan().IndexOfAny("&<>\"") < 0)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            _ = c switch
            {
                '&' => sb.Append("&amp;"),
                '<' => sb.Append("&lt;"),
                '>' => sb.Append("&gt;"),
                '"' => sb.Append("&quot;"),
                _ => sb.Append(c),
            };
        }

        return sb.ToString();
    }

    /// <summary>Plain text from a text value: whitespace runs collapsed to one space, trimmed; null when blank.</summary>
    public static string? PlainText(string? text) => NullIfBlank(text) is { } t ? Whitespace().Replace(t, " ") : null;

    public static void AddEnclosure(List<Enclosure> list, Enclosure enclosure)
    {
        if (!list.Exists(e => string.Equals(e.Url, enclosure.Url, StringComparison.Ordinal)))
        {
            list.Add(enclosure);
        }
    }
}
