using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using FinNews.Core.Briefing;
using FinNews.Core.Storage;
using FinNews.Jobs;

namespace FinNews.Web;

/// <summary>Server-rendered pages: latest briefing, briefing list, one briefing, market bars.</summary>
internal static class Pages
{
    private static readonly HtmlEncoder E = HtmlEncoder.Default;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static void MapWebPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/static/site.css", () => Results.Text(BriefingPublisher.Css, "text/css; charset=utf-8")).ExcludeFromDescription();

        app.MapGet("/", (SqliteStore store, IServiceProvider services) =>
        {
            var latest = store.LatestBriefing();
            if (latest is null)
            {
                var state = services.GetService<FirstPassStatus>()?.State;
                var waiting = state is not null && state != "done" && !state.StartsWith("failed", StringComparison.Ordinal);
                var body = $"<h1>No briefing yet</h1><p class=\"muted\">{(state is null ? "Run <code>finnews brief</code> to write one." : $"First pass: {E.Encode(state)}.")}</p>";
                return Layout.Page("No briefing yet", body, waiting ? 3 : null);
            }

            var html = new StringBuilder(BriefingRenderer.ToHtmlFragment(latest));
            html.Append(PastList(store.ListBriefings(0, 11).Where(b => b.Id != latest.Id).Take(10).ToList(), "Earlier briefings"));
            return Layout.Page(latest.Title, html.ToString());
        }).ExcludeFromDescription();

        app.MapGet("/briefings", (SqliteStore store, int? page) =>
        {
            var p = Math.Max(1, page ?? 1);
            const int size = 25;
            var items = store.ListBriefings((p - 1) * size, size);
            var total = store.CountBriefings();
            var body = new StringBuilder("<h1>Briefings</h1>");
            body.Append(items.Count == 0 ? "<p class=\"muted\">No briefings yet.</p>" : PastList(items, null));
            if (p > 1)
            {
                body.Append(C, $"<a href=\"/briefings?page={p - 1}\">Newer</a> ");
            }

            if ((long)p * size < total)
            {
                body.Append(C, $"<a href=\"/briefings?page={p + 1}\">Older</a>");
            }

            return Layout.Page("Briefings", body.ToString());
        }).ExcludeFromDescription();

        app.MapGet("/briefings/{id}", (SqliteStore store, string id) =>
        {
            var briefing = store.GetBriefing(id);
            return briefing is null
                ? Layout.Page("Not found", $"<h1>Not found</h1><p>No briefing with id {E.Encode(id)}.</p>", status: 404)
                : Layout.Page(briefing.Title, BriefingRenderer.ToHtmlFragment(briefing));
        }).ExcludeFromDescription();

        // List-Unsubscribe: GET shows a confirmation page; POST is the RFC 8058 one-click unsubscribe mail clients send.
        app.MapGet("/unsubscribe/{token}", (FinNews.Core.Delivery.DeliveryStore delivery, string token) => delivery.Unsubscribe(token)
            ? Layout.Page("Unsubscribed", "<h1>Unsubscribed</h1><p>You will receive no more FinNews digests at this address.</p>")
            : Layout.Page("Unknown link", "<h1>Unknown link</h1><p>This unsubscribe link is not valid (or was already used).</p>", status: 404))
            .ExcludeFromDescription();
        app.MapPost("/unsubscribe/{token}", (FinNews.Core.Delivery.DeliveryStore delivery, string token) =>
            delivery.Unsubscribe(token) ? Results.Ok() : Results.NotFound()).ExcludeFromDescription().DisableAntiforgery();

        app.MapGet("/market/{symbol}", (SqliteStore store, string symbol) =>
        {
            var bars = store.GetBars(symbol.ToUpperInvariant(), DateOnly.MaxValue, 60);
            if (bars.Count == 0)
            {
                return Layout.Page("Not found", $"<h1>Not found</h1><p>No market data for {E.Encode(symbol)}.</p>", status: 404);
            }

            var sb = new StringBuilder();
            sb.Append(C, $"<h1>{E.Encode(bars[0].Symbol)} daily bars</h1><p class=\"muted\">Source: {E.Encode(bars[0].Source)}</p>");
            sb.Append("<table><thead><tr><th>Date</th><th>Open</th><th>High</th><th>Low</th><th>Close</th><th>Volume</th><th>Flags</th></tr></thead><tbody>");
            foreach (var b in bars)
            {
                sb.Append(C, $"<tr><td>{b.Date:yyyy-MM-dd}</td><td class=\"num\">{b.Open:0.00}</td><td class=\"num\">{b.High:0.00}</td><td class=\"num\">{b.Low:0.00}</td><td class=\"num\">{b.Close:0.00}</td><td class=\"num\">{b.Volume:N0}</td><td>{E.Encode(string.Join(", ", b.Flags))}</td></tr>");
            }

            sb.Append("</tbody></table>");
            return Layout.Page($"{bars[0].Symbol} market data", sb.ToString());
        }).ExcludeFromDescription();
    }

    private static string PastList(IReadOnlyList<BriefingSummary> items, string? heading)
    {
        if (items.Count == 0)
        {
            return "";
        }

        var sb = new StringBuilder();
        if (heading is not null)
        {
            sb.Append("<h2>").Append(E.Encode(heading)).Append("</h2>");
        }

        sb.Append("<ul class=\"briefing-list\">");
        foreach (var b in items)
        {
            sb.Append(C, $"<li><a href=\"/briefings/{Uri.EscapeDataString(b.Id)}\">{E.Encode(b.Title)}</a> <span class=\"muted\">written {b.CreatedAt:yyyy-MM-dd HH:mm} UTC by the {E.Encode(b.Writer)} writer</span></li>");
        }

        return sb.Append("</ul>").ToString();
    }
}
