using System.Globalization;
using System.Net.Mail;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using FinNews.Core.Briefing;

namespace FinNews.Core.Delivery;

/// <summary>A rendered digest: both bodies and the headers to send them with.</summary>
/// <param name="Subject">One line.</param>
/// <param name="Text">The text/plain part.</param>
/// <param name="Html">The text/html part (a whole document, inline styles only).</param>
/// <param name="Headers">Extra headers: List-Unsubscribe and List-Unsubscribe-Post.</param>
/// <param name="Briefing">The briefing as filtered for this subscriber (what both parts show).</param>
public sealed record DigestMessage(
    string Subject,
    string Text,
    string Html,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    BriefingDocument Briefing)
{
    /// <summary>True when nothing in the briefing matched the subscriber's filters.</summary>
    public bool IsEmpty => Briefing.Sections.Count == 0;
}

/// <summary>
/// Renders a stored briefing as a multipart email for one subscriber: text and HTML from the same filtered briefing,
/// every piece of feed text encoded, with unsubscribe links in both parts and in the List-Unsubscribe headers.
/// </summary>
/// <remarks>
/// <para>Filtering: a section is kept when the subscriber's section list is empty or names it. With a ticker list, a
/// bullet is kept when its headline or text names one of the tickers (as a word, with or without <c>$</c>; watchlist
/// bullets start with the symbol, "NVLX: ..."), or when one of its cited sources does (title, or the article's stored
/// tickers when the caller supplies them). Sections left without bullets are dropped.</para>
/// <para>Numbering: the digest keeps the briefing's original citation numbers and lists only the sources its kept
/// bullets cite. Numbers may skip (1, 4, 7), but [4] in a digest is [4] on the web page and in the archive, so a
/// reader who forwards or compares them never meets two meanings of one number.</para>
/// </remarks>
public sealed partial class DigestRenderer
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private readonly string _baseUrl;
    private readonly string _unsubscribeMailbox;
    private readonly string _subjectPrefix;

    /// <param name="options">Base URL, unsubscribe mailbox and subject prefix.</param>
    /// <param name="fromAddress">Sender mailbox; receives mailto unsubscribes when no mailbox is configured.</param>
    public DigestRenderer(DigestOptions options, string fromAddress)
    {
        ArgumentNullException.ThrowIfNull(options);
        _baseUrl = options.BaseUrl.TrimEnd('/');
        _unsubscribeMailbox = options.UnsubscribeMailbox.Length > 0 ? options.UnsubscribeMailbox : new MailAddress(fromAddress).Address;
        _subjectPrefix = OneLine(options.SubjectPrefix);
    }

    /// <summary>The one-click unsubscribe URL of a subscriber.</summary>
    public string UnsubscribeUrl(Subscriber subscriber)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        return $"{_baseUrl}/unsubscribe/{Uri.EscapeDataString(subscriber.UnsubscribeToken)}";
    }

    /// <summary>Renders the digest of <paramref name="briefing"/> for <paramref name="subscriber"/>.</summary>
    /// <param name="articleTickers">Stored tickers per article id, so a ticker filter also matches cited articles
    /// tagged with the ticker; optional.</param>
    public DigestMessage Render(BriefingDocument briefing, Subscriber subscriber, IReadOnlyDictionary<string, IReadOnlyList<string>>? articleTickers = null)
    {
        ArgumentNullException.ThrowIfNull(briefing);
        ArgumentNullException.ThrowIfNull(subscriber);
        var filtered = Filter(briefing, subscriber.Sections, subscriber.Tickers, articleTickers);
        var unsubscribe = UnsubscribeUrl(subscriber);
        var mailto = $"mailto:{_unsubscribeMailbox}?subject={Uri.EscapeDataString("unsubscribe " + subscriber.UnsubscribeToken)}";
        var subject = OneLine($"{_subjectPrefix} {briefing.Title}".Trim());
        if (subject.Length > 200)
        {
            subject = subject[..200];
        }

        KeyValuePair<string, string>[] headers =
        [
            new("List-Unsubscribe", $"<{mailto}>, <{unsubscribe}>"),
            new("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ];
        return new DigestMessage(subject, ToText(filtered, subscriber, unsubscribe), ToHtml(filtered, subscriber, unsubscribe), headers, filtered);
    }

    /// <summary>
    /// The briefing reduced to the subscriber's sections and tickers, with only the sources the kept bullets cite
    /// (original numbers kept).
    /// </summary>
    public static BriefingDocument Filter(BriefingDocument briefing, IReadOnlyList<string> sections, IReadOnlyList<string> tickers,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? articleTickers = null)
    {
        ArgumentNullException.ThrowIfNull(briefing);
        ArgumentNullException.ThrowIfNull(sections);
        ArgumentNullException.ThrowIfNull(tickers);
        var kept = new List<BriefingSection>();
        foreach (var section in briefing.Sections)
        {
            if (sections.Count > 0 && !sections.Contains(section.Key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            var bullets = tickers.Count == 0
                ? section.Bullets.ToList()
                : section.Bullets.Where(b => tickers.Any(t => Mentions(briefing, b, t, articleTickers))).ToList();
            if (bullets.Count > 0)
            {
                kept.Add(section with { Bullets = bullets });
            }
        }

        var cited = kept.SelectMany(s => s.Bullets).SelectMany(b => b.Citations).ToHashSet();
        return briefing with { Sections = kept, Sources = briefing.Sources.Where(s => cited.Contains(s.Number)).ToList() };
    }

    private static bool Mentions(BriefingDocument briefing, BriefingBullet bullet, string ticker,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? articleTickers)
    {
        if (NamesTicker(bullet.Headline, ticker) || NamesTicker(bullet.Text, ticker))
        {
            return true;
        }

        foreach (var n in bullet.Citations)
        {
            var source = briefing.Source(n);
            if (source is null)
            {
                continue;
            }

            if (NamesTicker(source.Title, ticker))
            {
                return true;
            }

            if (source.ArticleId is { } id && articleTickers is not null && articleTickers.TryGetValue(id, out var tags) &&
                tags.Contains(ticker, StringComparer.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="text"/> names the symbol as a whole word (NVLX, $NVLX, NVLX:), case-sensitively.</summary>
    public static bool NamesTicker(string? text, string ticker)
    {
        ArgumentNullException.ThrowIfNull(ticker);
        if (string.IsNullOrEmpty(text) || ticker.Length == 0)
        {
            return false;
        }

        for (var i = text.IndexOf(ticker, StringComparison.Ordinal); i >= 0; i = text.IndexOf(ticker, i + 1, StringComparison.Ordinal))
        {
            var before = i == 0 ? ' ' : text[i - 1];
            var end = i + ticker.Length;
            var after = end >= text.Length ? ' ' : text[end];
            if (!char.IsLetterOrDigit(before) && !char.IsLetterOrDigit(after))
            {
                return true;
            }
        }

        return false;
    }

    private string ToText(BriefingDocument b, Subscriber subscriber, string unsubscribe)
    {
        var sb = new StringBuilder();
        sb.AppendLine(OneLine(b.Title));
        sb.AppendLine(C, $"Covers {b.WindowStart:yyyy-MM-dd HH:mm} to {b.WindowEnd:yyyy-MM-dd HH:mm} UTC. Written {b.CreatedAt:yyyy-MM-dd HH:mm} UTC by the {OneLine(b.Writer)} writer{(b.Model is null ? "" : $" ({OneLine(b.Model)})")}.");
        if (FilterLine(subscriber) is { } filters)
        {
            sb.AppendLine(filters);
        }

        if (BriefingRenderer.SampleBanner(b) is { } banner)
        {
            sb.AppendLine().AppendLine(banner);
        }

        foreach (var note in b.Notes)
        {
            sb.AppendLine().Append("Note: ").AppendLine(OneLine(note));
        }

        if (b.Sections.Count == 0)
        {
            sb.AppendLine().AppendLine("Nothing in this briefing matched your sections and tickers.");
        }

        foreach (var section in b.Sections)
        {
            var title = OneLine(section.Title).ToUpperInvariant();
            sb.AppendLine().AppendLine(title).AppendLine(new string('-', Math.Min(title.Length, 60)));
            foreach (var bullet in section.Bullets)
            {
                sb.Append("* ");
                if (bullet.Headline is { Length: > 0 } h)
                {
                    sb.Append(OneLine(h)).Append(" - ");
                }

                sb.Append(OneLine(bullet.Text)).Append(' ').AppendJoin("", bullet.Citations.Select(n => $"[{n}]")).AppendLine();
            }
        }

        if (b.Sources.Count > 0)
        {
            sb.AppendLine().AppendLine("SOURCES").AppendLine("-------");
            foreach (var s in b.Sources)
            {
                sb.AppendLine(C, $"[{s.Number}] {OneLine(s.Outlet)}{(s.Sample ? " (sample)" : "")}: {OneLine(s.Title)}");
                if (AbsoluteUrl(s.Url) is { } url)
                {
                    sb.Append("    ").AppendLine(url);
                }

                sb.AppendLine(C, $"    {s.PublishedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
            }
        }

        sb.AppendLine().AppendLine("-- ");
        sb.Append("Read online: ").AppendLine($"{_baseUrl}/briefings/{Uri.EscapeDataString(b.Id)}");
        sb.Append("Unsubscribe: ").AppendLine(unsubscribe);
        return sb.ToString();
    }

    private string ToHtml(BriefingDocument b, Subscriber subscriber, string unsubscribe)
    {
        const string Body = "margin:0;padding:16px;background:#f6f7f9;color:#1b1f24;font-family:Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5";
        const string Muted = "color:#5b6570;font-size:13px";
        const string Link = "color:#0b5cad";
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Append("<title>").Append(Html.Encode(b.Title)).Append("</title></head>");
        sb.Append("<body style=\"").Append(Body).Append("\"><div style=\"max-width:680px;margin:0 auto;background:#ffffff;padding:20px;border-radius:6px\">");
        sb.Append("<h1 style=\"font-size:22px;margin:0 0 8px\">").Append(Html.Encode(b.Title)).Append("</h1>");
        sb.Append(C, $"<p style=\"{Muted}\">Covers {b.WindowStart:yyyy-MM-dd HH:mm} to {b.WindowEnd:yyyy-MM-dd HH:mm} UTC · written {b.CreatedAt:yyyy-MM-dd HH:mm} UTC by the {Html.Encode(b.Writer)} writer");
        if (b.Model is not null)
        {
            sb.Append(" (").Append(Html.Encode(b.Model)).Append(')');
        }

        sb.Append("</p>");
        if (FilterLine(subscriber) is { } filters)
        {
            sb.Append("<p style=\"").Append(Muted).Append("\">").Append(Html.Encode(filters)).Append("</p>");
        }

        if (BriefingRenderer.SampleBanner(b) is { } banner)
        {
            sb.Append("<p class=\"sample-banner\" style=\"background:#fff1dc;border-left:4px solid #d9822b;padding:6px 10px\">").Append(Html.Encode(banner)).Append("</p>");
        }

        foreach (var note in b.Notes)
        {
            sb.Append("<p style=\"border-left:3px solid #d29922;padding-left:8px\">").Append(Html.Encode(note)).Append("</p>");
        }

        if (b.Sections.Count == 0)
        {
            sb.Append("<p>Nothing in this briefing matched your sections and tickers.</p>");
        }

        foreach (var section in b.Sections)
        {
            sb.Append("<h2 style=\"font-size:17px;margin:20px 0 6px;border-bottom:1px solid #d8dde3\">").Append(Html.Encode(section.Title)).Append("</h2><ul style=\"padding-left:20px;margin:0\">");
            foreach (var bullet in section.Bullets)
            {
                sb.Append("<li style=\"margin:0 0 8px\">");
                if (bullet.Headline is { Length: > 0 } h)
                {
                    sb.Append("<strong>").Append(Html.Encode(h)).Append("</strong> ");
                }

                sb.Append(Html.Encode(bullet.Text));
                foreach (var n in bullet.Citations)
                {
                    var source = b.Source(n);
                    var href = source is null ? null : AbsoluteUrl(source.Url);
                    var tip = source is null ? "" : $"{source.Outlet}: {source.Title}";
                    sb.Append(C, $" <a class=\"cite\" data-source=\"{n}\" href=\"{Html.Encode(href ?? $"#src-{n}")}\" title=\"{Html.Encode(tip)}\" style=\"{Link};font-size:12px;text-decoration:none\">[{n}]</a>");
                }

                sb.Append("</li>");
            }

            sb.Append("</ul>");
        }

        if (b.Sources.Count > 0)
        {
            sb.Append("<h2 style=\"font-size:17px;margin:20px 0 6px;border-bottom:1px solid #d8dde3\">Sources</h2><ol style=\"padding-left:28px;margin:0;font-size:13px\">");
            foreach (var s in b.Sources)
            {
                sb.Append(C, $"<li id=\"src-{s.Number}\" value=\"{s.Number}\" style=\"margin:0 0 6px\"><span style=\"font-weight:bold\">{Html.Encode(s.Outlet)}</span>{(s.Sample ? SampleBadge : "")}: ");
                if (AbsoluteUrl(s.Url) is { } url)
                {
                    sb.Append("<a href=\"").Append(Html.Encode(url)).Append("\" style=\"").Append(Link).Append("\">").Append(Html.Encode(s.Title)).Append("</a>");
                    sb.Append("<br><span style=\"").Append(Muted).Append("\">").Append(Html.Encode(url)).Append("</span>");
                }
                else
                {
                    sb.Append(Html.Encode(s.Title));
                }

                sb.Append(C, $" <span style=\"{Muted}\">· {s.PublishedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC</span></li>");
            }

            sb.Append("</ol>");
        }

        sb.Append("<hr style=\"border:0;border-top:1px solid #d8dde3;margin:24px 0 12px\"><p style=\"").Append(Muted).Append("\">");
        sb.Append("<a href=\"").Append(Html.Encode($"{_baseUrl}/briefings/{Uri.EscapeDataString(b.Id)}")).Append("\" style=\"").Append(Link).Append("\">Read online</a> · ");
        sb.Append("<a class=\"unsubscribe\" href=\"").Append(Html.Encode(unsubscribe)).Append("\" style=\"").Append(Link).Append("\">Unsubscribe</a>");
        sb.Append(" from these digests (sent to ").Append(Html.Encode(subscriber.Email)).Append(").</p></div></body></html>");
        return sb.ToString();
    }

    // Email clients drop stylesheets: the badge carries its style inline.
    private const string SampleBadge = " <span class=\"sample-badge\" style=\"background:#fde2b8;color:#6b3d00;font-size:11px;font-weight:bold;padding:0 4px;border-radius:3px\">SAMPLE</span>";

    /// <summary>An absolute http(s) link for a source: external URLs as they are, this service's paths under the base URL.</summary>
    private string? AbsoluteUrl(string url) => BriefingRenderer.SafeUrl(url) is { } safe ? (safe.StartsWith('/') ? _baseUrl + safe : safe) : null;

    private static string? FilterLine(Subscriber s)
    {
        if (s.Sections.Count == 0 && s.Tickers.Count == 0)
        {
            return null;
        }

        var parts = new List<string>();
        if (s.Sections.Count > 0)
        {
            parts.Add("sections " + string.Join(", ", s.Sections));
        }

        if (s.Tickers.Count > 0)
        {
            parts.Add("tickers " + string.Join(", ", s.Tickers));
        }

        return "Filtered for you: " + string.Join("; ", parts) + ".";
    }

    /// <summary>Collapses line breaks and other control characters so feed text cannot add lines, headers or parts.</summary>
    private static string OneLine(string s) => ControlRun().Replace(s, " ").Trim();

    [GeneratedRegex(@"[\p{Cc}\u2028\u2029]+", RegexOptions.CultureInvariant)]
    private static partial Regex ControlRun();
}
