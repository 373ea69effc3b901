using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace FinNews.Core.Feeds;

/// <summary>Turns publisher HTML into clean plain text. Feed markup is untrusted: nothing of it survives as markup.</summary>
public static partial class HtmlText
{
    private static readonly HtmlParser Parser = new();
    private static readonly System.Buffers.SearchValues<char> TitleSpecials = System.Buffers.SearchValues.Create("<&\n\r\t\f\v\u00A0");
    private static readonly HashSet<string> Dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "iframe", "object", "embed", "template", "svg", "math", "head", "form", "button",
    };

    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "blockquote", "section",
        "article", "header", "footer", "figure", "figcaption", "pre", "hr", "dd", "dt",
    };

    /// <summary>Plain text of an HTML fragment: scripts and styles dropped, blocks separated, whitespace collapsed.</summary>
    public static string ToText(string? html)
    {
        if (string.IsNullOrWhiteSpace(html))
        {
            return "";
        }

        // Plain text with no tag and no entity needs no parser.
        if (html.IndexOf('<', StringComparison.Ordinal) < 0 && html.IndexOf('&', StringComparison.Ordinal) < 0)
        {
            return Collapse(html);
        }

        var document = Parser.ParseDocument("<body></body>");
        var nodes = Parser.ParseFragment(html, document.Body!);
        var sb = new StringBuilder(html.Length);
        foreach (var node in nodes)
        {
            Append(node, sb);
        }

        return Collapse(sb.ToString());
    }

    // Elements kept by Sanitize (with their children); any other element is dropped (Dropped) or unwrapped (its children kept).
    private static readonly HashSet<string> Allowed = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dfn", "div", "dl", "dt", "em",
        "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
        "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "time", "tr", "u", "ul", "var",
    };

    private static readonly HashSet<string> Void = new(StringComparer.OrdinalIgnoreCase) { "br", "hr", "img" };

    /// <summary>
    /// Sanitized HTML of a publisher's fragment: only an allowlist of text and structure elements; attributes only
    /// href (a), src and alt (img), title, colspan/rowspan and datetime; links and images only over http(s) (mailto
    /// too for links), resolved against <paramref name="baseUri"/>; scripts, styles, frames, forms and event handlers
    /// removed with their content; every link opens with rel="nofollow noopener noreferrer".
    /// </summary>
    public static string Sanitize(string? html, Uri? baseUri = null)
    {
        if (string.IsNullOrWhiteSpace(html))
        {
            return "";
        }

        if (html.AsSpan().IndexOfAny('<', '&') < 0)
        {
            return html.Trim();
        }

        var document = Parser.ParseDocument("<body></body>");
        var nodes = Parser.ParseFragment(html, document.Body!);
        var sb = new StringBuilder(html.Length);
        foreach (var node in nodes)
        {
            AppendSafe(node, sb, baseUri, 0);
        }

        return sb.ToString().Trim();
    }

    private static void AppendSafe(INode node, StringBuilder sb, Uri? baseUri, int depth)
    {
        switch (node)
        {
            case IText text:
                sb.Append(FeedXml.HtmlEscape(text.Data));
                break;
            case IElement element when Dropped.Contains(element.LocalName) || depth > 64:
                break;
            case IElement element when Allowed.Contains(element.LocalName):
                var name = element.LocalName.ToLowerInvariant();
                if (name == "img" && SafeUrl(element.GetAttribute("src"), baseUri, mailto: false) is null)
                {
                    // An image without a safe source is nothing worth keeping.
                    break;
                }

                sb.Append('<').Append(name);
                AppendAttributes(element, name, sb, baseUri);
                sb.Append('>');
                if (Void.Contains(name))
                {
                    break;
                }

                foreach (var child in element.ChildNodes)
                {
                    AppendSafe(child, sb, baseUri, depth + 1);
                }

                sb.Append("</").Append(name).Append('>');
                break;
            case IElement element:
                foreach (var child in element.ChildNodes)
                {
                    AppendSafe(child, sb, baseUri, depth + 1);
                }

                break;
        }
    }

    private static void AppendAttributes(IElement element, string name, StringBuilder sb, Uri? baseUri)
    {
        void Add(string attribute, string? value)
        {
            if (value is not null)
            {
                sb.Append(' ').Append(attribute).Append("=\"").Append(FeedXml.HtmlEscape(value)).Append('"');
            }
        }

        switch (name)
        {
            case "a":
                var href = SafeUrl(element.GetAttribute("href"), baseUri, mailto: true);
                Add("href", href);
                if (href is not null)
                {
                    Add("rel", "nofollow noopener noreferrer");
                }

                break;
            case "img":
                Add("src", SafeUrl(element.GetAttribute("src"), baseUri, mailto: false));
                Add("alt", element.GetAttribute("alt"));
                break;
            case "td" or "th":
                Add("colspan", Digits(element.GetAttribute("colspan")));
                Add("rowspan", Digits(element.GetAttribute("rowspan")));
                break;
            case "time":
                Add("datetime", element.GetAttribute("datetime"));
                break;
        }

        Add("title", element.GetAttribute("title"));

        static string? Digits(string? value) => value is { Length: > 0 and <= 3 } && value.All(char.IsAsciiDigit) ? value : null;
    }

    // An absolute http(s) (or mailto) URL, resolving a relative one against the base; anything else (javascript:,
    // data:, vbscript:, a relative URL with no base) is dropped.
    private static string? SafeUrl(string? value, Uri? baseUri, bool mailto)
    {
        value = value?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        Uri? uri;
        if (FeedXml.IsAbsolute(value))
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out uri))
            {
                return null;
            }
        }
        else if (baseUri is null || !Uri.TryCreate(baseUri, value, out uri))
        {
            return null;
        }

        return uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps || (mailto && uri.Scheme == Uri.UriSchemeMailto)
            ? (FeedXml.IsAbsolute(value) ? value : uri.AbsoluteUri)
            : null;
    }

    /// <summary>
    /// Plain text of a title. Titles are text, but feeds often wrap them in inline formatting (&lt;b&gt;): those tags
    /// are removed; anything else that looks like a tag stays as literal text and is encoded when rendered.
    /// </summary>
    public static string TitleText(string? title)
    {
        if (string.IsNullOrWhiteSpace(title))
        {
            return "";
        }

        // Most titles are already plain: no markup, no entity, no whitespace to collapse.
        if (title.AsSpan().IndexOfAny(TitleSpecials) < 0 && !title.Contains("  ", StringComparison.Ordinal))
        {
            return title.Trim();
        }

        // Titles are plain text: inline tags vanish, any other tag (<div>, <p>, <h1>...) becomes a space.
        var stripped = AnyTag().Replace(InlineTag().Replace(title, ""), " ");
        // Double-escaped entities (&amp;amp;) are common in titles; one more decode pass fixes them.
        if (stripped.Contains('&', StringComparison.Ordinal))
        {
            stripped = WebUtility.HtmlDecode(stripped);
        }

        return Collapse(stripped);
    }

    private static void Append(INode node, StringBuilder sb)
    {
        switch (node)
        {
            case IText text:
                sb.Append(text.Data);
                break;
            case IElement element when Dropped.Contains(element.LocalName):
                break;
            case IElement element:
                var block = Blocks.Contains(element.LocalName);
                if (block)
                {
                    sb.Append('\n');
                }

                foreach (var child in element.ChildNodes)
                {
                    Append(child, sb);
                }

                if (block)
                {
                    sb.Append('\n');
                }

                break;
        }
    }

    private static string Collapse(string text)
    {
        var lines = text.Replace('\u00A0', ' ').Split('\n')
            .Select(l => Spaces().Replace(l, " ").Trim())
            .Where(l => l.Length > 0);
        return string.Join('\n', lines);
    }

    [GeneratedRegex(@"[ \t\r\f\v]+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"</?(b|i|em|strong|u|span|font|a|br|small|big|sup|sub|mark|abbr|cite|q)(\s[^<>]*)?/?>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineTag();

    [GeneratedRegex(@"</?[A-Za-z][A-Za-z0-9:-]*(\s[^<>]*)?/?>|<!--.*?-->", RegexOptions.Singleline)]
    private static partial Regex AnyTag();
}
