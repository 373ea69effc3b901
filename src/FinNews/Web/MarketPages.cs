using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;

namespace FinNews.Web;

/// <summary>The market pages: every stored symbol at a glance (/markets) and one symbol in depth (/market/{symbol}).</summary>
internal static class MarketPages
{
    /// <summary>Sessions of bars the market page shows (chart and table).</summary>
    public const int MarketPageSessions = 60;

    /// <summary>Sessions the /markets sparklines show at most.</summary>
    public const int MarketsSessions = 30;

    /// <summary>Articles listed as related news on the market page.</summary>
    public const int RelatedNews = 12;

    private static readonly HtmlEncoder E = HtmlEncoder.Default;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static void MapMarketPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/markets", (IMarketStore store, Watchlist watchlist) =>
        {
            var names = Names(watchlist);
            var series = store.BarSymbols()
                .Select(symbol => store.GetBars(symbol, DateOnly.MaxValue, MarketsSessions))
                .Where(bars => bars.Count > 0)
                .ToList();
            var sb = new StringBuilder("<h1>Markets</h1>");
            if (series.Count == 0)
            {
                return Layout.Page("Markets", sb.Append("<p class=\"muted\">No market data stored yet.</p>").ToString());
            }

            // The trend column says how many sessions it draws: the bars stored, not the most the page would show.
            var counts = series.Select(b => b.Count).Distinct().ToList();
            var trend = counts.Count == 1 ? string.Create(C, $"{counts[0]} sessions") : string.Create(C, $"Sessions ({counts.Min()}-{counts.Max()})");
            if (series.All(bars => bars[0].Sample))
            {
                sb.Append("<p class=\"sample-banner\" role=\"note\">Sample data: these are the bundled fictional market figures, not real prices.</p>");
            }
            else if (series.Any(bars => bars[0].Sample))
            {
                sb.Append("<p class=\"sample-banner\" role=\"note\">Rows marked sample are the bundled sample market data: fictional companies and prices.</p>");
            }

            // One provider for every row is said once, above the table; several get a column.
            var sources = series.Select(bars => (bars[0].Source, bars[0].Sample)).Distinct().ToList();
            if (sources.Count == 1)
            {
                sb.Append("<p class=\"meta\">Daily bars from ").Append(Source(series[0][0])).Append(".</p>");
            }

            sb.Append("<div class=\"table-scroll\"><table class=\"markets\"><thead><tr><th scope=\"col\">Symbol</th><th scope=\"col\">Name</th><th scope=\"col\" class=\"num\">Last close</th><th scope=\"col\" class=\"num\">Day</th>");
            sb.Append(C, $"<th scope=\"col\">{E.Encode(trend)}</th><th scope=\"col\">Flags</th>{(sources.Count > 1 ? "<th scope=\"col\">Source</th>" : "")}</tr></thead><tbody>");
            foreach (var bars in series)
            {
                var latest = bars[0];
                var day = bars.Count > 1 && bars[1].Close != 0 ? (latest.Close - bars[1].Close) / bars[1].Close * 100 : (decimal?)null;
                sb.Append(C, $"<tr data-symbol=\"{E.Encode(latest.Symbol)}\"><th scope=\"row\"><a href=\"/market/{Uri.EscapeDataString(latest.Symbol)}\">{E.Encode(latest.Symbol)}</a></th>");
                sb.Append("<td>").Append(E.Encode(names.GetValueOrDefault(latest.Symbol) ?? "")).Append("</td>");
                sb.Append(C, $"<td class=\"num\">{latest.Close:0.00}<span class=\"date\">{latest.Date:yyyy-MM-dd}</span></td>");
                sb.Append(C, $"<td class=\"num {Direction(day)}\">{Percent(day)}</td>");
                sb.Append("<td class=\"spark\">").Append(SvgCharts.Sparkline(bars.Reverse().Select(b => b.Close).ToList()));
                if (counts.Count > 1)
                {
                    sb.Append(C, $"<span class=\"date\">{bars.Count} sessions</span>");
                }

                sb.Append("</td><td class=\"flags\">").Append(E.Encode(string.Join(", ", bars.SelectMany(b => b.Flags).Distinct()))).Append("</td>");
                sb.Append(sources.Count > 1 ? $"<td>{Source(latest)}</td>" : "").Append("</tr>");
            }

            return Layout.Page("Markets", sb.Append("</tbody></table></div>").ToString());
        }).ExcludeFromDescription();

        app.MapGet("/market/{symbol}", (IMarketStore store, IArticleStore articles, Watchlist watchlist, TimeProvider time, string symbol) =>
        {
            var newestFirst = symbol.Length <= 32 ? store.GetBars(symbol.ToUpperInvariant(), DateOnly.MaxValue, MarketPageSessions) : [];
            if (newestFirst.Count == 0)
            {
                return Layout.Page("Not found", $"<h1>Not found</h1><p>No market data for {E.Encode(symbol)}. <a href=\"/markets\">All symbols</a></p>", status: 404);
            }

            var latest = newestFirst[0];
            var bars = newestFirst.Reverse().ToList();
            var entry = watchlist.Tickers.FirstOrDefault(t => string.Equals(t.Symbol, latest.Symbol, StringComparison.Ordinal));
            var heading = entry is null ? latest.Symbol : $"{entry.Name} ({latest.Symbol})";
            var sb = new StringBuilder();
            sb.Append("<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"/markets\">Markets</a> › ").Append(E.Encode(latest.Symbol)).Append("</nav>");
            sb.Append("<h1>").Append(E.Encode(entry?.Name ?? latest.Symbol));
            if (entry is not null)
            {
                sb.Append(" <span class=\"symbol\">").Append(E.Encode(latest.Symbol)).Append("</span>");
            }

            sb.Append("</h1><p class=\"meta\">");
            if (entry?.Exchange is { Length: > 0 } exchange)
            {
                sb.Append(E.Encode(exchange)).Append(" · ");
            }
            else if (entry is null)
            {
                sb.Append("Not on the watchlist · ");
            }

            decimal? Change(int back) => newestFirst.Count > back && newestFirst[back].Close != 0
                ? (latest.Close - newestFirst[back].Close) / newestFirst[back].Close * 100
                : null;
            sb.Append(C, $"Last close <strong>{latest.Close:0.00}</strong> on {latest.Date:yyyy-MM-dd}");
            sb.Append(C, $" (<span class=\"{Direction(Change(1))}\">{Percent(Change(1))}</span> on the day, <span class=\"{Direction(Change(5))}\">{Percent(Change(5))}</span> over 5 sessions)");
            sb.Append(" · daily bars from ").Append(Source(latest)).Append("</p>");
            if (latest.Sample)
            {
                sb.Append("<p class=\"sample-banner\" role=\"note\">Sample data: these are the bundled fictional market figures, not real prices.</p>");
            }

            sb.Append("<figure class=\"price-chart\">");
            sb.Append(SvgCharts.PriceChart(bars, $"{heading}: daily closes and high-low ranges", "chart-wide", SvgCharts.ChartLayout.Wide));
            sb.Append(SvgCharts.PriceChart(bars, $"{heading}: daily closes and high-low ranges", "chart-narrow", SvgCharts.ChartLayout.Narrow));
            sb.Append(C, $"<figcaption>Closes (line) and each session's high-low range (bars), {bars.Count} sessions from {bars[0].Date:yyyy-MM-dd} to {latest.Date:yyyy-MM-dd}; sessions are evenly spaced.</figcaption></figure>");

            sb.Append("<section class=\"quality\"><h2>Data quality</h2>");
            var flagged = bars.Where(b => b.Flags.Count > 0).ToList();
            if (flagged.Count == 0)
            {
                sb.Append(C, $"<p class=\"ok\">No flags: none of these {bars.Count} bars failed a data-quality check.</p>");
            }
            else
            {
                sb.Append(C, $"<p class=\"flagged\">{flagged.Count} of {bars.Count} bars are flagged (kept as stored, ringed on the chart):</p><ul class=\"flags\">");
                foreach (var b in Enumerable.Reverse(flagged))
                {
                    sb.Append(C, $"<li><time datetime=\"{b.Date:yyyy-MM-dd}\">{b.Date:yyyy-MM-dd}</time>: ");
                    sb.Append(string.Join("; ", b.Flags.Select(f => $"<code>{E.Encode(f)}</code> ({E.Encode(BarQualityChecker.Describe(f))})"))).Append("</li>");
                }

                sb.Append("</ul>");
            }

            sb.Append("</section><section class=\"related\"><h2>Related news</h2>");
            var news = articles.ArticlesTagged(latest.Symbol, time.GetUtcNow(), RelatedNews);
            if (news.Count == 0)
            {
                sb.Append("<p class=\"muted\">No stored article is tagged with ").Append(E.Encode(latest.Symbol)).Append(".</p>");
            }
            else
            {
                sb.Append(C, $"<p class=\"muted\">The {news.Count} newest stored articles tagged {E.Encode(latest.Symbol)}.</p><ol class=\"results\">");
                foreach (var a in news)
                {
                    var url = BriefingRenderer.SafeUrl(a.Url);
                    sb.Append("<li>");
                    sb.Append(url is null ? E.Encode(a.Title) : $"<a href=\"{E.Encode(url)}\" rel=\"noopener noreferrer nofollow\">{E.Encode(a.Title)}</a>");
                    sb.Append(" <span class=\"muted\"><span class=\"outlet\">").Append(E.Encode(a.Outlet)).Append("</span>");
                    sb.Append(a.Sample ? " " + BriefingRenderer.SampleBadge : "");
                    sb.Append(C, $", <time datetime=\"{a.PublishedAt:O}\">{a.PublishedAt:yyyy-MM-dd HH:mm} UTC</time></span></li>");
                }

                sb.Append("</ol>");
            }

            sb.Append("</section><section class=\"bars\"><h2>Daily bars</h2><div class=\"table-scroll\"><table class=\"bars\">");
            sb.Append(C, $"<caption>{bars.Count} sessions, newest first.</caption>");
            sb.Append("<thead><tr><th scope=\"col\">Date</th><th scope=\"col\" class=\"num\">Open</th><th scope=\"col\" class=\"num\">High</th><th scope=\"col\" class=\"num\">Low</th><th scope=\"col\" class=\"num\">Close</th><th scope=\"col\" class=\"num\">Volume</th><th scope=\"col\">Flags</th></tr></thead><tbody>");
            foreach (var b in newestFirst)
            {
                sb.Append(C, $"<tr{(b.Flags.Count > 0 ? " class=\"flagged\"" : "")}><th scope=\"row\">{b.Date:yyyy-MM-dd}</th><td class=\"num\">{b.Open:0.00}</td><td class=\"num\">{b.High:0.00}</td><td class=\"num\">{b.Low:0.00}</td><td class=\"num\">{b.Close:0.00}</td><td class=\"num\">{b.Volume:N0}</td><td class=\"flags\">{E.Encode(string.Join(", ", b.Flags))}</td></tr>");
            }

            sb.Append("</tbody></table></div></section>");
            return Layout.Page($"{heading} market data", sb.ToString());
        }).ExcludeFromDescription();
    }

    private static Dictionary<string, string> Names(Watchlist watchlist) =>
        watchlist.Tickers.GroupBy(t => t.Symbol, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Name, StringComparer.Ordinal);

    private static string Source(DailyBar bar) =>
        $"<span class=\"outlet\">{E.Encode(bar.Source)}</span>{(bar.Sample ? " " + BriefingRenderer.SampleBadge : "")}";

    private static string Percent(decimal? value) => value is { } v ? v.ToString("+0.0'%';-0.0'%';0.0'%'", C) : "-";

    private static string Direction(decimal? value) => value switch { > 0 => "up", < 0 => "down", _ => "" };
}
