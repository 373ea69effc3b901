using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FinNews.Core.Briefing;

/// <summary>
/// Renders a stored briefing as Markdown, HTML or JSON. Every piece of feed or model text is untrusted: HTML output
/// encodes all of it, and links are emitted only for http(s) URLs or this service's own paths.
/// </summary>
public static class BriefingRenderer
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Markdown with <c>[n]</c> citations and a numbered source list.</summary>
    public static string ToMarkdown(BriefingDocument b)
    {
        ArgumentNullException.ThrowIfNull(b);
        var sb = new StringBuilder();
        sb.Append("# ").AppendLine(EscapeMarkdown(b.Title)).AppendLine();
        sb.AppendLine(C, $"_Covers {b.WindowStart:yyyy-MM-dd HH:mm} to {b.WindowEnd:yyyy-MM-dd HH:mm} UTC. Written {b.CreatedAt:yyyy-MM-dd HH:mm} UTC by the {b.Writer} writer{(b.Model is null ? "" : $" ({b.Model})")}._");
        foreach (var note in b.Notes)
        {
            sb.AppendLine().Append("> ").AppendLine(EscapeMarkdown(note));
        }

        foreach (var section in b.Sections)
        {
            sb.AppendLine().Append("## ").AppendLine(EscapeMarkdown(section.Title)).AppendLine();
            foreach (var bullet in section.Bullets)
            {
                sb.Append("- ");
                if (bullet.Headline is { Length: > 0 } h)
                {
                    sb.Append("**").Append(EscapeMarkdown(h)).Append("** ");
                }

                sb.Append(EscapeMarkdown(bullet.Text)).Append(' ')
                    .AppendJoin("", bullet.Citations.Select(n => $"[{n}]")).AppendLine();
            }
        }

        if (b.Sources.Count > 0)
        {
            sb.AppendLine().AppendLine("## Sources").AppendLine();
            foreach (var s in b.Sources)
            {
                var url = SafeUrl(s.Url);
                sb.AppendLine(C, $"{s.Number}. {EscapeMarkdown(s.Outlet)}: {(url is null ? EscapeMarkdown(s.Title) : $"[{EscapeMarkdown(s.Title)}](<{url}>)")} ({s.PublishedAt:yyyy-MM-dd HH:mm} UTC)");
            }
        }

        return sb.ToString();
    }

    /// <summary>The briefing as an HTML fragment (an &lt;article&gt;) for the web page.</summary>
    public static string ToHtmlFragment(BriefingDocument b)
    {
        ArgumentNullException.ThrowIfNull(b);
        var sb = new StringBuilder();
        sb.Append("<article class=\"briefing\" id=\"briefing-").Append(Html.Encode(b.Id)).Append("\">");
        sb.Append("<h1>").Append(Html.Encode(b.Title)).Append("</h1>");
        sb.Append(C, $"<p class=\"meta\">Covers <time datetime=\"{b.WindowStart:O}\">{b.WindowStart:yyyy-MM-dd HH:mm}</time> to <time datetime=\"{b.WindowEnd:O}\">{b.WindowEnd:yyyy-MM-dd HH:mm}</time> UTC · written by the <span class=\"writer\">{Html.Encode(b.Writer)}</span> writer");
        if (b.Model is not null)
        {
            sb.Append(" (model <span class=\"model\">").Append(Html.Encode(b.Model)).Append("</span>)");
        }

        sb.Append(C, $" at <time datetime=\"{b.CreatedAt:O}\">{b.CreatedAt:yyyy-MM-dd HH:mm}</time> UTC</p>");
        foreach (var note in b.Notes)
        {
            sb.Append("<p class=\"note\">").Append(Html.Encode(note)).Append("</p>");
        }

        if (b.Sections.Count == 0)
        {
            sb.Append("<p class=\"empty\">Nothing to report in this window.</p>");
        }

        var citeCount = 0;
        foreach (var section in b.Sections)
        {
            sb.Append("<section class=\"section\" data-section=\"").Append(Html.Encode(section.Key)).Append("\"><h2>")
                .Append(Html.Encode(section.Title)).Append("</h2><ul>");
            foreach (var bullet in section.Bullets)
            {
                sb.Append("<li class=\"bullet\">");
                if (bullet.Headline is { Length: > 0 } h)
                {
                    sb.Append("<strong>").Append(Html.Encode(h)).Append("</strong> ");
                }

                sb.Append(Html.Encode(bullet.Text));
                foreach (var n in bullet.Citations)
                {
                    // The preview is plain markup shown by CSS on :hover and :focus-within: no script, so the strict
                    // CSP holds, and keyboard users get it too.
                    var source = b.Source(n);
                    sb.Append(C, $" <span class=\"cite-wrap\"><a class=\"cite\" href=\"#src-{n}\" data-source=\"{n}\" aria-describedby=\"prev-{b.Id}-{n}-{citeCount++}\">[{n}]</a>");
                    if (source is not null)
                    {
                        sb.Append(C, $"<span class=\"cite-preview\" role=\"tooltip\" id=\"prev-{b.Id}-{n}-{citeCount - 1}\"><span class=\"outlet\">{Html.Encode(source.Outlet)}</span> <span class=\"title\">{Html.Encode(source.Title)}</span> <time datetime=\"{source.PublishedAt:O}\">{source.PublishedAt:yyyy-MM-dd HH:mm} UTC</time></span>");
                    }

                    sb.Append("</span>");
                }

                sb.Append("</li>");
            }

            sb.Append("</ul></section>");
        }

        if (b.Sources.Count > 0)
        {
            sb.Append("<section class=\"sources\"><h2>Sources</h2><ol>");
            foreach (var s in b.Sources)
            {
                sb.Append(C, $"<li id=\"src-{s.Number}\" value=\"{s.Number}\" data-kind=\"{(s.Kind == SourceKind.Article ? "article" : "market")}\"><span class=\"outlet\">{Html.Encode(s.Outlet)}</span> ");
                var url = SafeUrl(s.Url);
                if (url is null)
                {
                    sb.Append("<span class=\"title\">").Append(Html.Encode(s.Title)).Append("</span>");
                }
                else
                {
                    sb.Append("<a class=\"title\" href=\"").Append(Html.Encode(url)).Append("\" rel=\"noopener noreferrer nofollow\">")
                        .Append(Html.Encode(s.Title)).Append("</a>");
                }

                sb.Append(C, $" <time datetime=\"{s.PublishedAt:O}\">{s.PublishedAt:yyyy-MM-dd HH:mm} UTC</time>");
                if (url is not null && !url.StartsWith('/'))
                {
                    sb.Append(" <span class=\"url\">").Append(Html.Encode(url)).Append("</span>");
                }

                sb.Append("</li>");
            }

            sb.Append("</ol></section>");
        }

        sb.Append("</article>");
        return sb.ToString();
    }

    /// <summary>A standalone HTML document (the file written to the data folder).</summary>
    public static string ToHtmlDocument(BriefingDocument b, string css)
    {
        ArgumentNullException.ThrowIfNull(b);
        return $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src 'none'">
            <title>{Html.Encode(b.Title)}</title><style>{css}</style></head>
            <body><main>{ToHtmlFragment(b)}</main></body></html>
            """;
    }

    /// <summary>The stored JSON form.</summary>
    public static string ToJson(BriefingDocument b) => JsonSerializer.Serialize(b, BriefingJsonContext.Default.BriefingDocument);

    /// <summary>The URL if it is safe to link: absolute http(s), or a path on this service; otherwise null.</summary>
    public static string? SafeUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        if (url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal))
        {
            return url;
        }

        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri.AbsoluteUri
            : null;
    }

    /// <summary>Escapes Markdown control characters so feed text cannot form links, images or HTML.</summary>
    public static string EscapeMarkdown(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length + 8);
        foreach (var ch in text)
        {
            if (ch is '\\' or '`' or '*' or '_' or '[' or ']' or '(' or ')' or '#' or '!' or '<' or '>' or '|' or '{' or '}')
            {
                sb.Append('\\');
            }

            sb.Append(ch == '\n' ? ' ' : ch);
        }

        return sb.ToString();
    }
}
