using System.ComponentModel;
using System.Globalization;
using System.Text;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Search;
using Microsoft.SemanticKernel;

namespace FinNews.Core.Models;

/// <summary>
/// The tools an <c>ask</c> gives the model, over the project's own services: search the stored news (words, time,
/// tickers, feeds) through <see cref="ISearchIndex"/>, read an article and list a story's outlets from the
/// the article store, and read daily market bars for a symbol and period. Each returns a
/// <see cref="NewsToolResult"/>; the kernel's <see cref="AskToolFilter"/> numbers its sources and fences them for
/// the model. Under a point in time (<see cref="AskSession.AsOf"/>) nothing published or first seen later is returned.
/// </summary>
public sealed class NewsPlugin(ISearchIndex index, IArticleStore store, IMarketStore market)
{
    /// <summary>The plugin name; tools reach the model as <c>news_search</c>, <c>news_read_article</c>, ...</summary>
    public const string PluginName = "news";

    private const int MaxArticleChars = 4000;

    [KernelFunction("search")]
    [Description("Search the stored news articles. Returns numbered sources, best match first.")]
    public async Task<NewsToolResult> SearchAsync(Kernel kernel,
        [Description("Words to search for, e.g. company, event, figure")] string query,
        [Description("Only articles published at or after this date or instant (ISO 8601), optional")] string? since = null,
        [Description("Only articles published before this date or instant (ISO 8601), optional")] string? until = null,
        [Description("Only articles tagged with one of these ticker symbols, comma-separated (e.g. KLVP,NVLX), optional")] string? tickers = null,
        [Description("Only articles from these feed ids, comma-separated, optional")] string? feeds = null,
        [Description("Most results, 1 to 10 (default 5)")] int limit = 5,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return await SearchAtAsync(Session(kernel)?.AsOf, query, since, until, tickers, feeds, limit, cancellationToken);
    }

    /// <summary>The search tool's work, for a point in time (the extractive answer uses it directly).</summary>
    public async Task<NewsToolResult> SearchAtAsync(DateTimeOffset? asOf, string query, string? since = null, string? until = null,
        string? tickers = null, string? feeds = null, int limit = 5, CancellationToken cancellationToken = default)
    {
        var notes = new List<string>();
        var from = Instant(since, "since", notes);
        var to = Instant(until, "until", notes);
        if (asOf is { } at && (to is null || to > at))
        {
            to = at;
        }

        limit = Math.Clamp(limit, 1, 10);
        var tickerList = List(tickers, upper: true);
        var feedList = List(feeds, upper: false);
        var hits = await index.SearchAsync(new SearchQuery(query ?? "", SearchMode.Hybrid, asOf is null ? limit : limit * 3, from, to,
            tickerList.Count > 0 ? tickerList : null, feedList.Count > 0 ? feedList : null), cancellationToken);
        var articles = store.GetArticles(hits.Select(h => h.ArticleId).Distinct(StringComparer.Ordinal)).ToDictionary(a => a.Id, StringComparer.Ordinal);
        var clusters = store.ClusterIds(articles.Keys);
        var sources = new List<ToolSource>();
        foreach (var hit in hits)
        {
            if (sources.Count >= limit)
            {
                break;
            }

            if (articles.Remove(hit.ArticleId, out var a) && Known(a, asOf))
            {
                var text = $"{a.Title}\n{LlmWriter.Excerpt(a.Summary, a.Body)}";
                if (!string.IsNullOrWhiteSpace(hit.Text) && !text.Contains(hit.Text, StringComparison.Ordinal))
                {
                    text += "\n…\n" + LlmWriter.Cut(hit.Text, LlmWriter.MaxSourceChars);
                }

                sources.Add(FromArticle(a, text, clusters.GetValueOrDefault(a.Id)));
            }
        }

        var filters = new StringBuilder();
        Append(filters, "since", from?.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        Append(filters, "before", to?.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        Append(filters, "tickers", tickerList.Count > 0 ? string.Join(",", tickerList) : null);
        Append(filters, "feeds", feedList.Count > 0 ? string.Join(",", feedList) : null);
        notes.Insert(0, string.Create(CultureInfo.InvariantCulture,
            $"search \"{query}\"{(filters.Length > 0 ? $" ({filters})" : "")}: {sources.Count} result(s)"));
        return new NewsToolResult(sources, string.Join("; ", notes));
    }

    [KernelFunction("read_article")]
    [Description("Read one stored article in full. Give its source number from an earlier result (e.g. 3) or its article id.")]
    public NewsToolResult ReadArticle(Kernel kernel,
        [Description("Source number of an earlier result, or an article id")] string id)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var session = Session(kernel);
        var article = Resolve(session, id);
        if (article is null || !Known(article, session?.AsOf))
        {
            return new NewsToolResult([], $"read_article {id}: no such article");
        }

        var text = $"{article.Title}\n{LlmWriter.Cut(string.IsNullOrWhiteSpace(article.Body) ? article.Summary : $"{article.Summary}\n{article.Body}", MaxArticleChars)}";
        var cluster = store.ClusterIds([article.Id]).GetValueOrDefault(article.Id);
        return new NewsToolResult([FromArticle(article, text, cluster)], $"read_article {id}: \"{article.Title}\" ({article.Outlet})");
    }

    [KernelFunction("story_outlets")]
    [Description("List every outlet that carried the same story as an article (one source per outlet's article).")]
    public NewsToolResult StoryOutlets(Kernel kernel,
        [Description("Source number of an earlier result, or an article id")] string id)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var session = Session(kernel);
        var article = Resolve(session, id);
        if (article is null || !Known(article, session?.AsOf))
        {
            return new NewsToolResult([], $"story_outlets {id}: no such article");
        }

        var cluster = store.ClusterIds([article.Id]).GetValueOrDefault(article.Id);
        var members = cluster is null ? [article] : store.StoryArticles(cluster).Where(a => Known(a, session?.AsOf)).ToList();
        var sources = members.Select(a => FromArticle(a, $"{a.Title}\n{LlmWriter.Excerpt(a.Summary, a.Body)}", cluster)).ToList();
        return new NewsToolResult(sources, string.Create(CultureInfo.InvariantCulture,
            $"story_outlets {id}: {members.Count} article(s) from {members.Select(a => a.Outlet).Distinct(StringComparer.Ordinal).Count()} outlet(s): {string.Join(", ", members.Select(a => a.Outlet).Distinct(StringComparer.Ordinal))}"));
    }

    [KernelFunction("market_bars")]
    [Description("Daily market bars (open, high, low, close, volume, change) of a symbol for a period; default the last 5 sessions.")]
    public NewsToolResult MarketBars(Kernel kernel,
        [Description("Ticker symbol, e.g. KLVP")] string symbol,
        [Description("First date (YYYY-MM-DD), optional")] string? from = null,
        [Description("Last date (YYYY-MM-DD), optional")] string? to = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var asOf = Session(kernel)?.AsOf;
        var sym = (symbol ?? "").Trim().TrimStart('$').ToUpperInvariant();
        var notes = new List<string>();
        var last = Date(to, "to", notes) ?? DateOnly.MaxValue;
        if (asOf is { } at)
        {
            // A bar is known once its day has ended: only days before the as-of date.
            var lastKnown = DateOnly.FromDateTime(at.UtcDateTime).AddDays(-1);
            last = last > lastKnown ? lastKnown : last;
        }

        var first = Date(from, "from", notes);
        // One bar before the period, for the first day's change.
        var bars = market.GetBars(sym, last, first is null ? 6 : 400).Reverse().ToList();
        if (first is { } f)
        {
            var start = bars.FindIndex(b => b.Date >= f);
            bars = start < 0 ? [] : bars.Skip(Math.Max(0, start - 1)).ToList();
        }

        if (bars.Count == 0)
        {
            return new NewsToolResult([], $"market_bars {sym}: no stored bars{(notes.Count > 0 ? "; " + string.Join("; ", notes) : "")}");
        }

        var shown = bars.Count > 1 && (first is null || bars[0].Date < first) ? bars.Skip(1).ToList() : bars;
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder().Append(c, $"{sym} daily bars {shown[0].Date:yyyy-MM-dd} to {shown[^1].Date:yyyy-MM-dd} ({shown[^1].Source}):\n");
        for (var i = 0; i < shown.Count; i++)
        {
            var b = shown[i];
            var prev = bars.IndexOf(b) is > 0 and var index ? bars[index - 1] : null;
            text.Append(c, $"{b.Date:yyyy-MM-dd}: open {b.Open:0.00}, high {b.High:0.00}, low {b.Low:0.00}, close {b.Close:0.00}, volume {b.Volume}");
            if (prev is not null && prev.Close != 0)
            {
                text.Append(c, $"; change on the day {Math.Round((b.Close - prev.Close) / prev.Close * 100, 2):+0.00;-0.00;0.00}%");
            }

            text.Append('\n');
        }

        var latest = shown[^1];
        var before = bars.IndexOf(latest) is > 0 and var li ? bars[li - 1] : null;
        decimal? day = before is { Close: not 0 } ? Math.Round((latest.Close - before.Close) / before.Close * 100, 2) : null;
        decimal? period = null;
        if (shown.Count > 1 && shown[0].Close != 0)
        {
            period = Math.Round((latest.Close - shown[0].Close) / shown[0].Close * 100, 2);
            text.Append(c, $"change from {shown[0].Date:yyyy-MM-dd} close to {latest.Date:yyyy-MM-dd} close {period:+0.00;-0.00;0.00}%\n");
        }

        var move = new MarketMove(sym, null, latest, day, period, latest.Source);
        var close = new DateTimeOffset(latest.Date.ToDateTime(new TimeOnly(21, 0)), TimeSpan.Zero);
        var source = new ToolSource(string.Create(c, $"market:{sym}:{shown[0].Date:yyyy-MM-dd}:{latest.Date:yyyy-MM-dd}"), SourceKind.MarketData, null,
            latest.Source, string.Create(c, $"{sym} daily bars {shown[0].Date:yyyy-MM-dd} to {latest.Date:yyyy-MM-dd}"),
            $"/market/{Uri.EscapeDataString(sym)}", close, text.ToString().TrimEnd(), [sym], move, Sample: latest.Sample);
        return new NewsToolResult([source], string.Create(c, $"market_bars {sym} {shown[0].Date:yyyy-MM-dd} to {latest.Date:yyyy-MM-dd}: {shown.Count} bar(s){(notes.Count > 0 ? "; " + string.Join("; ", notes) : "")}"));
    }

    private static AskSession? Session(Kernel kernel) =>
        kernel.Data.TryGetValue(AskSession.DataKey, out var value) ? value as AskSession : null;

    private static bool Known(Article a, DateTimeOffset? asOf) => asOf is not { } at || (a.PublishedAt < at && a.FirstSeenAt < at);

    private Article? Resolve(AskSession? session, string? id)
    {
        var key = (id ?? "").Trim().Trim('[', ']', '#').Trim();
        if (int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && session?.Source(number) is { } known)
        {
            return known.Source.ArticleId is { } articleId ? store.GetArticle(articleId) : null;
        }

        return key.Length == 0 ? null : store.GetArticle(key);
    }

    private static ToolSource FromArticle(Article a, string text, string? cluster) =>
        new(a.Id, SourceKind.Article, a.Id, a.Outlet, a.Title, a.Url, a.PublishedAt, text, a.Tickers, null, cluster, a.Sample);

    private static DateTimeOffset? Instant(string? value, string name, List<string> notes)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at.ToUniversalTime();
        }

        notes.Add($"{name} '{value}' is not an ISO 8601 date, ignored");
        return null;
    }

    private static DateOnly? Date(string? value, string name, List<string> notes) =>
        Instant(value, name, notes) is { } at ? DateOnly.FromDateTime(at.UtcDateTime) : null;

    private static List<string> List(string? value, bool upper) =>
        (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => upper ? v.TrimStart('$').ToUpperInvariant() : v).Distinct(StringComparer.Ordinal).ToList();

    private static void Append(StringBuilder sb, string name, string? value)
    {
        if (value is not null)
        {
            sb.Append(sb.Length > 0 ? ", " : "").Append(name).Append(' ').Append(value);
        }
    }
}
