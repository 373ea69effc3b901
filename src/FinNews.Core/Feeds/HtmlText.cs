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
