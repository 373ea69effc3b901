using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FinNews.Core.Briefing;

/// <summary>
/// How links to this service's own pages (a market citation's <c>/market/NVLX</c>) are written. On the site they stay
/// relative; in a standalone file (an export, the data folder's copies) a relative link would resolve against the file
/// (<c>file:///market/NVLX</c>), so it becomes absolute under the public base URL, or plain text when none is known.
/// </summary>
/// <param name="BaseUrl">The site's public base URL without a trailing slash, or null.</param>
/// <param name="Relative">True when the rendering is served by the site itself.</param>
public sealed record SiteLinks(string? BaseUrl, bool Relative)
{
    /// <summary>Pages served by FinNews: site paths stay relative.</summary>
    public static SiteLinks OnSite { get; } = new(null, true);

    /// <summary>A standalone document: site paths under <paramref name="publicBaseUrl"/>, or plain text without one.</summary>
    public static SiteLinks Standalone(string? publicBaseUrl) =>
        new(string.IsNullOrWhiteSpace(publicBaseUrl) ? null : publicBaseUrl.Trim().TrimEnd('/'), false);

    /// <summary>The link to write for <paramref name="url"/>, or null to write no link (unsafe, or a site path with no base).</summary>
    public string? Resolve(string? url)
    {
        var safe = BriefingRenderer.SafeUrl(url);
        return safe is null || !safe.StartsWith('/') || Relative ? safe : BaseUrl is null ? null : BaseUrl + safe;
    }
}

/// <summary>
/// Renders a stored briefing as Markdown, HTML or JSON. Every piece of feed or model text is untrusted: HTML output
/// encodes all of it, and links are emitted only for http(s) URLs or this service's own paths.
/// </summary>
public static class BriefingRenderer
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The badge shown next to an outlet whose content is bundled sample data.</summary>
    public const string SampleBadge = "<span class=\"sample-badge\" title=\"Bundled sample data: a fictional outlet or market, not real news\">sample</span>";

    /// <summary>The banner of a briefing that rests wholly or partly on sample data; null when it does not.</summary>
    /// <summary>The badge on a source imported from history: its first-seen time is the backfill rule, not observed.</summary>
    public const string ImportedBadge = "<span class=\"sample-badge imported-badge\" title=\"Imported from history (ingest --backfill): first seen is assumed 15 minutes after publication, not observed\">imported</span>";

    public static string? SampleBanner(BriefingDocument b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return b.SampleShare switch
        {
            SampleShare.All => "Sample data: this briefing is built from the bundled sample feeds and market data, a fictional day of financial news. Its outlets, companies and figures are invented.",
            SampleShare.Some => string.Create(C, $"Partly sample data: {b.Sources.Count(s => s.Sample)} of {b.Sources.Count} sources are bundled sample data (fictional outlets or market figures), marked \"sample\" in the source list."),
            _ => null,
        };
    }

    /// <summary>Markdown with <c>[n]</c> citations and a numbered source list.</summary>
    /// <param name="b">The briefing.</param>
    /// <param name="links">How links to this site's pages are written (default: relative, as on the site).</param>
    public static string ToMarkdown(BriefingDocument b, SiteLinks? links = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        links ??= SiteLinks.OnSite;
        var sb = new StringBuilder();
        sb.Append("# ").AppendLine(EscapeMarkdown(b.Title)).AppendLine();
        sb.AppendLine(C, $"_Covers {b.WindowStart:yyyy-MM-dd HH:mm} to {b.WindowEnd:yyyy-MM-dd HH:mm} UTC. Written {b.CreatedAt:yyyy-MM-dd HH:mm} UTC by the {b.Writer} writer{(b.Model is null ? "" : $" ({b.Model})")}._");
        if (SampleBanner(b) is { } banner)
        {
            sb.AppendLine().Append("> **").Append(EscapeMarkdown(banner)).AppendLine("**");
        }

        foreach (var note in b.Notes)
        {
            sb.AppendLine().Append("> ").AppendLine(EscapeMarkdown(note));
        }

        foreach (var section in b.Sections)
        {
            sb.AppendLine().Append("## ").AppendLine(EscapeMarkdown(section.Title)).AppendLine();
            if (section.Rows is { Count: > 0 } rows)
            {
                sb.AppendLine("| Symbol | Name | Close | Day | 5 sessions | Flags | Source |").AppendLine("|---|---|--:|--:|--:|---|---|");
                foreach (var r in rows)
                {
                    sb.AppendLine(C, $"| {EscapeMarkdown(r.Symbol)} | {EscapeMarkdown(r.Name ?? "")} | {r.Close:0.00} ({r.Date:yyyy-MM-dd}) | {Percent(r.DayChangePercent)} | {Percent(r.FiveDayChangePercent)} | {EscapeMarkdown(string.Join(", ", r.Flags))} | [{r.Citation}] |");
                }

                if (!StatementsRepeatRows(b, section))
                {
                    sb.AppendLine();
                }
            }

            foreach (var bullet in StatementsRepeatRows(b, section) ? [] : section.Bullets)
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
                var url = links.Resolve(s.Url);
                sb.AppendLine(C, $"{s.Number}. {EscapeMarkdown(s.Outlet)}{(s.Sample ? " (sample)" : "")}{(s.Backfilled ? " (imported from history)" : "")}: {(url is null ? EscapeMarkdown(s.Title) : $"[{EscapeMarkdown(s.Title)}](<{url}>)")} ({s.PublishedAt:yyyy-MM-dd HH:mm} UTC)");
            }
        }

        return sb.ToString();
    }

    /// <summary>The briefing as an HTML fragment (an &lt;article&gt;) for the web page.</summary>
    /// <param name="b">The briefing.</param>
    /// <param name="links">How links to this site's pages are written (default: relative, as on the site).</param>
    public static string ToHtmlFragment(BriefingDocument b, SiteLinks? links = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        links ??= SiteLinks.OnSite;
        var sb = new StringBuilder();
        sb.Append("<article class=\"briefing\" id=\"briefing-").Append(Html.Encode(b.Id)).Append("\">");
        sb.Append("<h1>").Append(Html.Encode(b.Title)).Append("</h1>");
        sb.Append(C, $"<p class=\"meta\">Covers <time datetime=\"{b.WindowStart:O}\">{b.WindowStart:yyyy-MM-dd HH:mm}</time> to <time datetime=\"{b.WindowEnd:O}\">{b.WindowEnd:yyyy-MM-dd HH:mm}</time> UTC · written by the <span class=\"writer\">{Html.Encode(b.Writer)}</span> writer");
        if (b.Model is not null)
        {
            sb.Append(" (model <span class=\"model\">").Append(Html.Encode(b.Model)).Append("</span>)");
        }

        sb.Append(C, $" at <time datetime=\"{b.CreatedAt:O}\">{b.CreatedAt:yyyy-MM-dd HH:mm}</time> UTC</p>");
        if (SampleBanner(b) is { } banner)
        {
            sb.Append("<p class=\"sample-banner\" role=\"note\">").Append(Html.Encode(banner)).Append("</p>");
        }

        foreach (var note in b.Notes)
        {
            sb.Append("<p class=\"note\">").Append(Html.Encode(note)).Append("</p>");
        }

        if (b.Sections.Count == 0)
        {
            sb.Append("<p class=\"empty\">Nothing to report in this window.</p>");
        }

        var citeCount = 0;
        void Cite(int n)
        {
            // The preview is plain markup shown by CSS on :hover and :focus-within: no script, so the strict
            // CSP holds, and keyboard users get it too.
            var source = b.Source(n);
            var id = string.Create(C, $"prev-{b.Id}-{n}-{citeCount++}");
            sb.Append(C, $" <span class=\"cite-wrap\"><a class=\"cite\" href=\"#src-{n}\" data-source=\"{n}\" aria-describedby=\"{Html.Encode(id)}\">[{n}]</a>");
            if (source is not null)
            {
                sb.Append(C, $"<span class=\"cite-preview\" role=\"tooltip\" id=\"{Html.Encode(id)}\"><span class=\"outlet\">{Html.Encode(source.Outlet)}{(source.Sample ? " " + SampleBadge : "")}</span> <span class=\"title\">{Html.Encode(source.Title)}</span> <time datetime=\"{source.PublishedAt:O}\">{source.PublishedAt:yyyy-MM-dd HH:mm} UTC</time></span>");
            }

            sb.Append("</span>");
        }

        foreach (var section in b.Sections)
        {
            sb.Append("<section class=\"section\" data-section=\"").Append(Html.Encode(section.Key)).Append("\"><h2>")
                .Append(Html.Encode(section.Title)).Append("</h2>");
            var collapse = false;
            if (section.Rows is { Count: > 0 } rows)
            {
                MarketTable(sb, b, rows, links);
                collapse = StatementsRepeatRows(b, section);
            }

            if (section.Bullets.Count > 0)
            {
                if (collapse)
                {
                    // The extractive writer's market statements say what the table shows; kept for reading aloud and editing.
                    sb.Append(C, $"<details class=\"statements\"><summary>The table as statements ({section.Bullets.Count})</summary>");
                }

                sb.Append("<ul>");
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
                        Cite(n);
                    }

                    sb.Append("</li>");
                }

                sb.Append("</ul>").Append(collapse ? "</details>" : "");
            }

            sb.Append("</section>");
        }

        if (b.Sources.Count > 0)
        {
            sb.Append("<section class=\"sources\"><h2>Sources</h2><ol>");
            foreach (var s in b.Sources)
            {
                sb.Append(C, $"<li id=\"src-{s.Number}\" value=\"{s.Number}\" data-kind=\"{(s.Kind == SourceKind.Article ? "article" : "market")}\"><span class=\"outlet\">{Html.Encode(s.Outlet)}</span> ");
                if (s.Sample)
                {
                    sb.Append(SampleBadge).Append(' ');
                }

                if (s.Backfilled)
                {
                    sb.Append(ImportedBadge).Append(' ');
                }

                var url = links.Resolve(s.Url);
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

    /// <summary>
    /// The markets table: symbol (linked to its bars), name, close, day and five-session change, a sparkline, flags and
    /// the citation every figure in the row rests on. Wrapped in a scroll box so a phone scrolls the table, not the page.
    /// </summary>
    private static void MarketTable(StringBuilder sb, BriefingDocument b, IReadOnlyList<MarketRow> rows, SiteLinks links)
    {
        var sessions = rows.Max(r => r.Closes.Count);
        sb.Append("<div class=\"table-scroll\"><table class=\"markets\"><caption>Latest final close per symbol from stored daily bars; ");
        sb.Append(C, $"changes against the previous session and five sessions earlier; lines show up to {sessions} sessions of closes.</caption>");
        sb.Append(C, $"<thead><tr><th scope=\"col\">Symbol</th><th scope=\"col\">Name</th><th scope=\"col\" class=\"num\">Close</th><th scope=\"col\" class=\"num\">Day</th><th scope=\"col\" class=\"num\">5 sessions</th><th scope=\"col\">Trend</th><th scope=\"col\">Flags</th><th scope=\"col\">Source</th></tr></thead><tbody>");
        foreach (var r in rows)
        {
            var link = links.Resolve($"/market/{Uri.EscapeDataString(r.Symbol)}");
            sb.Append("<tr data-symbol=\"").Append(Html.Encode(r.Symbol)).Append("\"><th scope=\"row\">");
            sb.Append(link is null ? Html.Encode(r.Symbol) : $"<a href=\"{Html.Encode(link)}\">{Html.Encode(r.Symbol)}</a>");
            sb.Append("</th><td>").Append(Html.Encode(r.Name ?? "")).Append("</td>");
            sb.Append(C, $"<td class=\"num\">{r.Close:0.00}<span class=\"date\">{r.Date:yyyy-MM-dd}</span></td>");
            sb.Append(C, $"<td class=\"num {Direction(r.DayChangePercent)}\">{Percent(r.DayChangePercent)}</td><td class=\"num {Direction(r.FiveDayChangePercent)}\">{Percent(r.FiveDayChangePercent)}</td>");
            sb.Append("<td class=\"spark\">").Append(SvgCharts.Sparkline(r.Closes)).Append("</td>");
            sb.Append("<td class=\"flags\">").Append(Html.Encode(string.Join(", ", r.Flags))).Append("</td><td class=\"source\">");
            // A plain citation (its source named in the tooltip): a CSS preview would be clipped by the scroll box.
            var source = b.Source(r.Citation);
            sb.Append(C, $"<a class=\"cite\" href=\"#src-{r.Citation}\" data-source=\"{r.Citation}\" title=\"{Html.Encode(source is null ? "" : $"{source.Outlet}: {source.Title}")}\">[{r.Citation}]</a>");
            if (source is { Sample: true })
            {
                sb.Append(' ').Append(SampleBadge);
            }

            sb.Append("</td></tr>");
        }

        sb.Append("</tbody></table></div>");
    }

    // The extractive writer's market statements restate the table row by row; other writers' statements are their own.
    private static bool StatementsRepeatRows(BriefingDocument b, BriefingSection section) =>
        section.Rows is { Count: > 0 } && string.Equals(b.Writer, "extractive", StringComparison.Ordinal);

    private static string Percent(decimal? value) => value is { } v ? v.ToString("+0.0'%';-0.0'%';0.0'%'", C) : "-";

    private static string Direction(decimal? value) => value switch { > 0 => "up", < 0 => "down", _ => "" };

    /// <summary>A standalone HTML document (the file written to the data folder, an export, the API's html form).</summary>
    /// <param name="b">The briefing.</param>
    /// <param name="css">The stylesheet to inline.</param>
    /// <param name="links">How links to this site's pages are written (default: relative, for a document the site serves;
    /// files use <see cref="SiteLinks.Standalone"/>).</param>
    public static string ToHtmlDocument(BriefingDocument b, string css, SiteLinks? links = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        return $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src 'none'">
            <title>{Html.Encode(b.Title)}</title><style>{css}</style></head>
            <body><main>{ToHtmlFragment(b, links)}</main></body></html>
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
