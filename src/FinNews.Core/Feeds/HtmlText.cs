using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html;
using AngleSharp.Html.Parser;
using AngleSharp.Text;

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
    /// <remarks>
    /// Read token by token with AngleSharp's HTML5 tokenizer (the same character references, raw-text elements and
    /// comments as its parser), without building a document: text needs no tree, and a document per item (with its
    /// DOM events) was most of the normalizer's time and allocation. The tree builder's corrections that matter for
    /// text are applied here: html, head and body tags inside a fragment are ignored, a nested form is ignored, a new
    /// button closes the open one, embed is void, and svg/math may close themselves.
    /// </remarks>
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

        var sb = new StringBuilder(html.Length);
        using var source = new TextSource(html);
        var tokenizer = new HtmlTokenizer(source, HtmlEntityProvider.Resolver) { SkipComments = true };
        // Open dropped elements, innermost last: nothing inside them is text. Each records how many containers were
        // open when it started, so an end tag that closes one of those containers closes it too.
        var dropped = new List<(string Name, int Depth)>();
        // Open container elements (div, p, li, td...), innermost last; at most MaxOpen are followed.
        var open = new List<string>();
        var foreign = 0; // open svg/math among them: their children are not HTML (no raw-text elements; CDATA allowed)
        for (var token = tokenizer.Get(); token.Type != HtmlTokenType.EndOfFile; token = tokenizer.Get())
        {
            switch (token.Type)
            {
                case HtmlTokenType.Character when dropped.Count == 0:
                    sb.Append(token.Data);
                    break;
                case HtmlTokenType.StartTag:
                    var name = token.Name;
                    if (name is "html" or "head" or "body")
                    {
                        break; // ignored inside a body fragment (their attributes would merge onto the open ones)
                    }

                    if (foreign == 0 && RawTextStates.TryGetValue(name, out var state))
                    {
                        tokenizer.State = state;
                    }

                    if (Dropped.Contains(name))
                    {
                        var selfClosing = token.AsTag().IsSelfClosing && name is "svg" or "math";
                        if (name == "embed" || selfClosing || (name == "form" && LastDropped("form") >= 0))
                        {
                            break;
                        }

                        if (name == "button" && LastDropped("button") is var openButton and >= 0)
                        {
                            Close(openButton);
                        }

                        dropped.Add((name, open.Count));
                        foreign += name is "svg" or "math" ? 1 : 0;
                        tokenizer.IsAcceptingCharacterData = foreign > 0;
                    }
                    else
                    {
                        if (foreign == 0 && Containers.Contains(name) && open.Count < MaxOpen)
                        {
                            // A new paragraph or list item closes the open one when it is the innermost element.
                            if (name is "p" or "li" && open.Count > 0 && open[^1] == name && DroppedInside(open.Count - 1) == dropped.Count)
                            {
                                open.RemoveAt(open.Count - 1);
                            }

                            open.Add(name);
                        }

                        if (dropped.Count == 0 && Blocks.Contains(name))
                        {
                            sb.Append('\n');
                        }
                    }

                    break;
                case HtmlTokenType.EndTag:
                    var endName = token.Name;
                    if (LastDropped(endName) is var index and >= 0)
                    {
                        Close(index);
                        tokenizer.IsAcceptingCharacterData = foreign > 0;
                    }
                    else if (foreign == 0 && Containers.Contains(endName) && open.LastIndexOf(endName) is var container and >= 0)
                    {
                        // The tree builder pops every element above the one closed: a button or form left open inside
                        // a div ends with the div. Not through template, object, svg or math (scope boundaries), nor
                        // through a button for a paragraph.
                        var inside = DroppedInside(container);
                        var boundary = false;
                        for (var i = inside; i < dropped.Count; i++)
                        {
                            boundary |= dropped[i].Name is "template" or "object" or "svg" or "math" || (endName == "p" && dropped[i].Name == "button");
                        }

                        if (!boundary)
                        {
                            Close(inside);
                            open.RemoveRange(container, open.Count - container);
                            tokenizer.IsAcceptingCharacterData = foreign > 0;
                        }
                    }

                    if (dropped.Count == 0 && Blocks.Contains(endName))
                    {
                        sb.Append('\n');
                    }

                    break;
            }
        }

        return Collapse(sb.Replace("\0", string.Empty).ToString());

        int LastDropped(string name)
        {
            for (var i = dropped.Count - 1; i >= 0; i--)
            {
                if (dropped[i].Name == name)
                {
                    return i;
                }
            }

            return -1;
        }

        // The first dropped element opened inside the container at this position (dropped.Count when none).
        int DroppedInside(int containerIndex)
        {
            var first = dropped.Count;
            while (first > 0 && dropped[first - 1].Depth > containerIndex)
            {
                first--;
            }

            return first;
        }

        // Closing an element closes every element opened inside it.
        void Close(int from)
        {
            if (from < dropped.Count && dropped[from].Depth < open.Count)
            {
                open.RemoveRange(dropped[from].Depth, open.Count - dropped[from].Depth);
            }

            for (var i = dropped.Count - 1; i >= from; i--)
            {
                foreign -= dropped[i].Name is "svg" or "math" ? 1 : 0;
                dropped.RemoveAt(i);
            }
        }
    }

    private const int MaxOpen = 256;

    // Elements an end tag closes together with everything opened inside them (the block elements with end tags, and
    // table cells).
    private static readonly HashSet<string> Containers = new(StringComparer.Ordinal)
    {
        "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "table", "blockquote", "section",
        "article", "header", "footer", "figure", "figcaption", "pre", "dd", "dt", "caption",
    };

    // Elements whose content the HTML tree builder tokenizes as raw text (scripting off, as AngleSharp's parser).
    private static readonly Dictionary<string, HtmlParseMode> RawTextStates = new(StringComparer.Ordinal)
    {
        ["script"] = HtmlParseMode.Script,
        ["style"] = HtmlParseMode.Rawtext,
        ["xmp"] = HtmlParseMode.Rawtext,
        ["iframe"] = HtmlParseMode.Rawtext,
        ["noembed"] = HtmlParseMode.Rawtext,
        ["noframes"] = HtmlParseMode.Rawtext,
        ["textarea"] = HtmlParseMode.RCData,
        ["title"] = HtmlParseMode.RCData,
        ["plaintext"] = HtmlParseMode.Plaintext,
    };

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

    /// <summary>
    /// Lines of the text (no-break spaces as spaces), each with its runs of spaces, tabs, CR, FF and VT made one
    /// space and trimmed of any white space, empty lines dropped, joined by <c>\n</c>; in one pass over the text.
    /// </summary>
    private static string Collapse(string text)
    {
        // Each line is written after the text kept so far (one slot left for its separator), then trimmed and moved
        // down next to it, or dropped when nothing is left.
        var buffer = System.Buffers.ArrayPool<char>.Shared.Rent(text.Length + 1);
        try
        {
            var kept = 0;
            var cursor = 1;
            var inRun = false;
            for (var i = 0; i <= text.Length; i++)
            {
                var c = i < text.Length ? text[i] : '\n';
                if (c == '\n')
                {
                    var line = buffer.AsSpan(kept + 1, cursor - kept - 1).Trim();
                    if (!line.IsEmpty)
                    {
                        if (kept > 0)
                        {
                            buffer[kept++] = '\n';
                        }

                        line.CopyTo(buffer.AsSpan(kept));
                        kept += line.Length;
                    }

                    cursor = kept + 1;
                    inRun = false;
                }
                else if (c is ' ' or '\t' or '\r' or '\f' or '\v' or '\u00A0')
                {
                    if (!inRun)
                    {
                        buffer[cursor++] = ' ';
                        inRun = true;
                    }
                }
                else
                {
                    buffer[cursor++] = c;
                    inRun = false;
                }
            }

            return new string(buffer, 0, kept);
        }
        finally
        {
            System.Buffers.ArrayPool<char>.Shared.Return(buffer);
        }
    }

    [GeneratedRegex(@"</?(b|i|em|strong|u|span|font|a|br|small|big|sup|sub|mark|abbr|cite|q)(\s[^<>]*)?/?>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineTag();

    [GeneratedRegex(@"</?[A-Za-z][A-Za-z0-9:-]*(\s[^<>]*)?/?>|<!--.*?-->", RegexOptions.Singleline)]
    private static partial Regex AnyTag();
}
