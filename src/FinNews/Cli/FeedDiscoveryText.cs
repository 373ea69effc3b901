using System.Globalization;
using System.Text;
using FinNews.Core.Feeds;

namespace FinNews.Cli;

/// <summary>Defaults and wording for `feeds add URL` when the operator gives only a URL (autodiscovery).</summary>
internal static class FeedDiscoveryText
{
    /// <summary>A feed id from a URL: host and path in lower-case letters, digits and dashes ("example-com-markets-rss").</summary>
    public static string IdFor(string url)
    {
        var source = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Host + uri.AbsolutePath : url;
        if (source.StartsWith("www.", StringComparison.OrdinalIgnoreCase))
        {
            source = source[4..];
        }

        var sb = new StringBuilder(source.Length);
        foreach (var c in source.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[^1] != '-')
            {
                sb.Append('-');
            }
        }

        var id = sb.ToString().Trim('-');
        return id.Length == 0 ? "feed" : id[..Math.Min(id.Length, 48)].TrimEnd('-');
    }

    /// <summary>An outlet name from a URL: its host without "www.".</summary>
    public static string NameFor(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri)
        ? (uri.Host.StartsWith("www.", StringComparison.OrdinalIgnoreCase) ? uri.Host[4..] : uri.Host)
        : url;

    /// <summary>The feeds a page offers, numbered, each with the command that adds it. Titles are publisher text: control characters are dropped.</summary>
    public static string Offer(string page, IReadOnlyList<DiscoveredFeed> feeds)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{page} is a web page, not a feed. It links to {feeds.Count} feed{(feeds.Count == 1 ? "" : "s")}:");
        for (var i = 0; i < feeds.Count; i++)
        {
            var feed = feeds[i];
            var title = feed.Title is null ? "" : $"{Printable(feed.Title)} ";
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {i + 1}. {title}({feed.Type}) {feed.Url}");
        }

        sb.Append(CultureInfo.InvariantCulture, $"Add one with: finnews feeds add {page} --pick N   (or: finnews feeds add FEED-URL)");
        return sb.ToString();
    }

    private static string Printable(string text) => new([.. text.Where(c => !char.IsControl(c)).Take(120)]);
}
