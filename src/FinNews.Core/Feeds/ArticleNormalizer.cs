using System.Security.Cryptography;
using System.Text;

namespace FinNews.Core.Feeds;

/// <summary>Turns a parsed item into a stored article: plain text, canonical URL, UTC time, stable id, tickers.</summary>
public sealed class ArticleNormalizer
{
    private readonly TickerTagger _tagger;

    public ArticleNormalizer(TickerTagger tagger) => _tagger = tagger;

    /// <summary>Normalizes one item; null when the item has neither a title nor a link (nothing to show or cite).</summary>
    public Article? Normalize(ParsedItem item, FeedDefinition feed, string outlet, DateTimeOffset firstSeen)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(feed);
        // Titles arrive as plain text from the parser: decoding or stripping them again would alter a title such as
        // "Use &lt;b&gt; for bold" (an Atom text title that literally contains "<b>").
        var title = FeedXml.PlainText(item.Title) ?? "";
        var url = UrlCanonicalizer.Canonicalize(item.Link);
        var summary = item.SummaryText;
        var body = item.ContentText;
        if (summary.Length == 0 && body.Length > 0)
        {
            summary = Lead(body, 400);
        }

        if (body == summary)
        {
            body = "";
        }

        if (title.Length == 0)
        {
            title = Lead(summary, 120);
        }

        if (title.Length == 0 && url.Length == 0)
        {
            return null;
        }

        var published = item.Published ?? item.Updated;
        var fallback = published is null;
        var publishedAt = (published ?? firstSeen).ToUniversalTime();

        var key = !string.IsNullOrWhiteSpace(item.Id) ? $"guid\n{feed.Id}\n{item.Id.Trim()}"
            : url.Length > 0 ? $"url\n{url}"
            : $"title\n{feed.Id}\n{title}\n{publishedAt:O}";
        var tickers = _tagger.Tag($"{title}\n{summary}\n{body}");
        return new Article(
            Id: Hash(key, 20),
            FeedId: feed.Id,
            Outlet: outlet,
            Title: title,
            Url: url,
            Summary: summary,
            Body: body,
            PublishedAt: publishedAt,
            FirstSeenAt: firstSeen.ToUniversalTime(),
            PublishedIsFallback: fallback,
            Tickers: tickers,
            Authors: item.Authors.Select(a => a.Display).Where(a => a.Length > 0).Distinct(StringComparer.Ordinal).ToList(),
            Categories: item.Categories,
            ContentHash: Hash($"{title.ToUpperInvariant()}\n{summary.ToUpperInvariant()}", 32),
            Repaired: item.Repaired);
    }

    /// <summary>The first sentences of a text up to about <paramref name="max"/> characters.</summary>
    public static string Lead(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var cut = text.LastIndexOf(". ", max, StringComparison.Ordinal);
        if (cut > max / 3)
        {
            return text[..(cut + 1)];
        }

        var space = text.LastIndexOf(' ', max);
        return (space > 0 ? text[..space] : text[..max]) + "…";
    }

    private static string Hash(string value, int hexChars) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..hexChars];
}
