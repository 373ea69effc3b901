using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using FinNews.Core;
using FinNews.Core.Access;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Search;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace FinNews.Web;

/// <summary>Server-rendered pages: latest briefing, briefing list, one briefing, market bars.</summary>
internal static class Pages
{
    private static readonly HtmlEncoder E = HtmlEncoder.Default;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private static readonly string[] SearchModes = ["hybrid", "lexical", "vector"];

    public static void MapWebPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/static/site.css", () => Results.Text(BriefingPublisher.Css, "text/css; charset=utf-8")).ExcludeFromDescription();

        app.MapGet("/", (IBriefingStore store, IServiceProvider services) =>
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

        app.MapGet("/briefings", (IBriefingStore store, int? page) =>
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

        app.MapGet("/briefings/{id}", (HttpContext context, IBriefingStore store, IAntiforgery antiforgery, string id) =>
        {
            var briefing = store.GetBriefing(id);
            if (briefing is null)
            {
                return NotFound(id);
            }

            var approval = store.Approval(id);
            var actions = new StringBuilder("<section class=\"review\"><h2>Review</h2>");
            actions.Append(approval is { } a
                ? string.Create(C, $"<p class=\"approved\">Approved by {E.Encode(a.By)} at {a.At:yyyy-MM-dd HH:mm} UTC.</p>")
                : "<p class=\"muted\">Not approved yet. Approved briefings go into the fine-tuning dataset.</p>");
            if (CanReview(context, out var reviewer, out var refusal))
            {
                actions.Append(C, $"<form method=\"post\" action=\"/briefings/{Uri.EscapeDataString(id)}/approve\">{Layout.AntiforgeryField(antiforgery, context)}<button type=\"submit\">Approve as {E.Encode(reviewer)}</button></form>");
                actions.Append(C, $"<p><a href=\"/briefings/{Uri.EscapeDataString(id)}/edit\">Edit statements</a></p>");
            }
            else
            {
                actions.Append("<p class=\"muted\">Read-only. ").Append(E.Encode(refusal)).Append("</p>");
            }

            return Layout.Page(briefing.Title, Versions(store, briefing) + BriefingRenderer.ToHtmlFragment(briefing) + actions.Append("</section>"));
        }).ExcludeFromDescription();

        // Approving and editing need an editor (or admin) key when Auth:Enabled, and a request from this machine when not.
        app.MapPost("/briefings/{id}/approve", async (HttpContext context, IBriefingStore store, TimeProvider time, IAntiforgery antiforgery, string id) =>
        {
            if (!CanReview(context, out var reviewer, out var refusal))
            {
                return Forbidden(refusal);
            }

            if (await Layout.RefuseFormAsync(antiforgery, context) is { } refused)
            {
                return refused;
            }

            // The approver is who signed in (the key's name and id), not a name typed into the form.
            return store.ApproveBriefing(id, reviewer, time.GetUtcNow())
                ? Results.Redirect($"/briefings/{Uri.EscapeDataString(id)}", permanent: false)
                : NotFound(id);
        }).ExcludeFromDescription();

        app.MapGet("/briefings/{id}/edit", (HttpContext context, IBriefingStore store, IAntiforgery antiforgery, string id) =>
        {
            if (!CanReview(context, out _, out var refusal))
            {
                return Forbidden(refusal);
            }

            var briefing = store.GetBriefing(id);
            return briefing is null
                ? NotFound(id)
                : Layout.Page("Edit briefing", EditForm(briefing, Layout.AntiforgeryField(antiforgery, context), (si, bi) => briefing.Sections[si].Bullets[bi].Text, []));
        }).ExcludeFromDescription();

        app.MapPost("/briefings/{id}/edit", async (HttpContext context, IBriefingStore store, IArticleStore articles, IMarketStore market, Watchlist watchlist, IAntiforgery antiforgery, string id) =>
        {
            if (!CanReview(context, out _, out var refusal))
            {
                return Forbidden(refusal);
            }

            if (await Layout.RefuseFormAsync(antiforgery, context) is { } refused)
            {
                return refused;
            }

            var briefing = store.GetBriefing(id);
            if (briefing is null)
            {
                return NotFound(id);
            }

            var form = await context.Request.ReadFormAsync();
            // A field left out of the post keeps its statement as it is; only a field sent empty removes one.
            string Submitted(int si, int bi) => form.TryGetValue($"b-{si}-{bi}", out var value)
                ? value.ToString().Replace("\r\n", "\n", StringComparison.Ordinal).Trim()
                : briefing.Sections[si].Bullets[bi].Text.Trim();
            var checker = new BriefingEditChecker(articles, market, new CitationValidator(watchlist.Tickers.Select(t => t.Symbol)));
            IReadOnlyDictionary<int, NumberedSource>? sources = null;
            var problems = new Dictionary<(int, int), string>();
            var sections = new List<BriefingSection>();
            for (var si = 0; si < briefing.Sections.Count; si++)
            {
                var section = briefing.Sections[si];
                var bullets = new List<BriefingBullet>();
                for (var bi = 0; bi < section.Bullets.Count; bi++)
                {
                    var original = section.Bullets[bi];
                    var text = Submitted(si, bi);
                    if (text.Length > 2000)
                    {
                        problems[(si, bi)] = string.Create(C, $"it is {text.Length} characters long; the limit is 2000.");
                        continue;
                    }

                    // A statement sent empty is removed.
                    if (text.Length == 0)
                    {
                        continue;
                    }

                    // A reworded statement keeps its citations only if they support every figure and ticker in it.
                    if (!string.Equals(text, original.Text.Trim(), StringComparison.Ordinal))
                    {
                        sources ??= checker.Sources(briefing);
                        var reasons = checker.Check(original, text, sources);
                        if (reasons.Count > 0)
                        {
                            problems[(si, bi)] = string.Join("; ", reasons) + ".";
                            continue;
                        }
                    }

                    bullets.Add(original with { Text = text });
                }

                if (bullets.Count > 0)
                {
                    sections.Add(section with { Bullets = bullets });
                }
            }

            if (problems.Count > 0)
            {
                // Nothing is saved; the form comes back with what was typed and, per statement, what is unsupported.
                return Layout.Page("Not saved", EditForm(briefing, Layout.AntiforgeryField(antiforgery, context), Submitted, problems), status: 400);
            }

            store.SaveEditedBriefing(briefing with { Sections = sections });
            return Results.Redirect($"/briefings/{Uri.EscapeDataString(id)}", permanent: false);
        }).ExcludeFromDescription();

        // List-Unsubscribe: GET only asks (mail scanners and link previews follow links, so it changes nothing); POST
        // unsubscribes, both from the confirmation form and as the RFC 8058 one-click POST mail clients send
        // ("List-Unsubscribe=One-Click", no antiforgery token).
        app.MapGet("/unsubscribe/{token}", (string token) => token.Length > 100
            ? UnknownUnsubscribeLink()
            : Layout.Page("Unsubscribe", $"""
                <h1>Unsubscribe</h1><p>Stop sending FinNews digests to the address this link was mailed to?</p>
                <form method="post" action="/unsubscribe/{E.Encode(Uri.EscapeDataString(token))}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>
                """))
            .ExcludeFromDescription();
        app.MapPost("/unsubscribe/{token}", (FinNews.Core.Delivery.IDeliveryStore delivery, string token) => delivery.Unsubscribe(token)
            ? Layout.Page("Unsubscribed", "<h1>Unsubscribed</h1><p>You will receive no more FinNews digests at this address.</p>")
            : UnknownUnsubscribeLink())
            .ExcludeFromDescription().DisableAntiforgery();

        app.MapGet("/search", async (FinNews.Core.Search.ISearchIndex index, IArticleStore store, string? q, string? mode, CancellationToken ct) =>
        {
            var sb = new StringBuilder("<h1>Search</h1>");
            sb.Append(C, $"<form class=\"search\" method=\"get\" action=\"/search\"><input type=\"search\" name=\"q\" value=\"{E.Encode(q ?? "")}\" aria-label=\"Search the news\" maxlength=\"300\"> ");
            sb.Append("<select name=\"mode\" aria-label=\"Mode\">");
            foreach (var m in SearchModes)
            {
                sb.Append(C, $"<option{(string.Equals(mode ?? "hybrid", m, StringComparison.OrdinalIgnoreCase) ? " selected" : "")}>{m}</option>");
            }

            sb.Append("</select> <button type=\"submit\">Search</button></form>");
            if (!string.IsNullOrWhiteSpace(q))
            {
                if (!ArticleSearch.TryMode(mode, out var searchMode))
                {
                    return Layout.Page("Search", sb.Append("<p class=\"error\">Unknown mode.</p>").ToString(), status: 400);
                }

                var results = await ArticleSearch.SearchAsync(index, store, new FinNews.Core.Search.SearchQuery(q, searchMode, 20), ct);
                if (results.Count == 0)
                {
                    // "Nothing found" is an answer: no result cleared the relevance floor (lexical match or close vector).
                    sb.Append(C, $"<p class=\"empty\">Nothing found for “{E.Encode(q)}” in the stored news.</p>");
                    return Layout.Page($"Search: {q}", sb.ToString());
                }

                sb.Append(C, $"<p class=\"muted\">{results.Count} results, one per story.</p><ol class=\"results\">");
                foreach (var r in results)
                {
                    var url = BriefingRenderer.SafeUrl(r.Url);
                    sb.Append("<li>");
                    sb.Append(url is null ? E.Encode(r.Title) : $"<a href=\"{E.Encode(url)}\" rel=\"noopener noreferrer nofollow\">{E.Encode(r.Title)}</a>");
                    sb.Append(C, $" <span class=\"muted\"><span class=\"outlet\">{E.Encode(r.Outlet)}</span>{(r.Sample ? " " + BriefingRenderer.SampleBadge : "")}, {r.PublishedAt:yyyy-MM-dd HH:mm} UTC{(r.Tickers.Count > 0 ? " · " + E.Encode(string.Join(' ', r.Tickers)) : "")}</span>");
                    sb.Append("<p>").Append(E.Encode(r.Snippet)).Append("</p></li>");
                }

                sb.Append("</ol>");
            }

            return Layout.Page(string.IsNullOrWhiteSpace(q) ? "Search" : $"Search: {q}", sb.ToString());
        }).ExcludeFromDescription();

        app.MapGet("/ask", async (FinNews.Core.Briefing.AnswerService answers, string? q, CancellationToken ct) =>
        {
            var sb = new StringBuilder("<h1>Ask</h1>");
            sb.Append(C, $"<form class=\"search\" method=\"get\" action=\"/ask\"><input type=\"search\" name=\"q\" value=\"{E.Encode(q ?? "")}\" aria-label=\"Your question\" maxlength=\"500\"> <button type=\"submit\">Ask</button></form>");
            if (!string.IsNullOrWhiteSpace(q))
            {
                var answer = await answers.AskAsync(q, null, ct);
                sb.Append("<article class=\"answer\"><p>");
                foreach (var sentence in answer.Sentences)
                {
                    sb.Append(E.Encode(sentence.Text));
                    foreach (var n in sentence.Citations)
                    {
                        sb.Append(C, $" <a class=\"cite\" href=\"#src-{n}\">[{n}]</a>");
                    }

                    sb.Append(' ');
                }

                if (answer.Sentences.Count == 0)
                {
                    sb.Append(E.Encode(answer.Text));
                }

                sb.Append(C, $"</p><p class=\"meta\">Written by the {E.Encode(answer.Writer)} writer{(answer.Model is null ? "" : $" ({E.Encode(answer.Model)})")}.</p>");
                foreach (var note in answer.Notes)
                {
                    sb.Append("<p class=\"note\">").Append(E.Encode(note)).Append("</p>");
                }

                sb.Append("<section class=\"sources\"><h2>Sources</h2><ol>");
                foreach (var source in answer.Sources)
                {
                    var url = BriefingRenderer.SafeUrl(source.Url);
                    sb.Append(C, $"<li id=\"src-{source.Number}\" value=\"{source.Number}\"><span class=\"outlet\">{E.Encode(source.Outlet)}</span> {(source.Sample ? BriefingRenderer.SampleBadge + " " : "")}");
                    sb.Append(url is null ? E.Encode(source.Title) : $"<a href=\"{E.Encode(url)}\" rel=\"noopener noreferrer nofollow\">{E.Encode(source.Title)}</a>");
                    sb.Append(C, $" <time datetime=\"{source.PublishedAt:O}\">{source.PublishedAt:yyyy-MM-dd HH:mm} UTC</time></li>");
                }

                sb.Append("</ol></section>");
                if (answer.Tools is { Count: > 0 } tools)
                {
                    sb.Append("<section class=\"tools\"><h2>Tools that ran</h2><ol>");
                    foreach (var step in tools)
                    {
                        sb.Append(C, $"<li><code>{E.Encode(step.Tool)}</code> {E.Encode(step.Summary)}");
                        foreach (var n in step.Sources)
                        {
                            // Only cited sources are listed above, so a link appears only where its target does.
                            sb.Append(answer.Source(n) is null ? $" [{n}]" : $" <a class=\"cite\" href=\"#src-{n}\">[{n}]</a>");
                        }

                        sb.Append(step.Note is null ? "" : $" <span class=\"note\">({E.Encode(step.Note)})</span>").Append("</li>");
                    }

                    sb.Append("</ol></section>");
                }

                sb.Append("</article>");
            }

            return Layout.Page(string.IsNullOrWhiteSpace(q) ? "Ask" : $"Ask: {q}", sb.ToString());
        }).ExcludeFromDescription();

        app.MapGet("/feeds", (FeedHealth health) =>
        {
            // On a phone each row stacks into a card, every cell labelled from data-label (see site.css, table.stack).
            var sb = new StringBuilder("<h1>Feed health</h1><table class=\"stack feeds\"><thead><tr><th>Feed</th><th>Status</th><th>Last success</th><th>Errors</th><th>Next poll</th><th>Items/day</th><th>Last error</th></tr></thead><tbody>");
            foreach (var r in health.List())
            {
                sb.Append(C, $"<tr><td data-label=\"Feed\"><span class=\"outlet\">{E.Encode(r.Name)}</span>{(r.Sample ? " " + BriefingRenderer.SampleBadge : "")}<br><span class=\"muted\">{E.Encode(r.Id)}{(r.Origin == FinNews.Core.Feeds.FeedOrigin.Added ? " (added)" : "")}</span></td><td data-label=\"Status\" class=\"status-{E.Encode(r.Status.Replace(' ', '-'))}\">{E.Encode(r.Status)}</td>");
                sb.Append(C, $"<td data-label=\"Last success\">{Time(r.LastSuccessAt)}</td><td data-label=\"Errors\" class=\"num\">{r.ErrorCount}</td><td data-label=\"Next poll\">{Time(r.NextPollAt)}</td><td data-label=\"Items/day\" class=\"num\">{r.ItemsPerDay:0.0}</td>");
                sb.Append("<td data-label=\"Last error\" class=\"error-text\">").Append(E.Encode(r.PausedReason ?? r.LastError ?? "")).Append("</td></tr>");
            }

            return Layout.Page("Feed health", sb.Append("</tbody></table>").ToString());
        }).ExcludeFromDescription();

        app.MapMarketPages();
    }

    /// <summary>
    /// Whether this request may edit and approve briefings, with the approver name to record, or why not: with
    /// Auth:Enabled an editor (or admin) key, named by the key's name and id; without auth only a request from this
    /// machine (see <see cref="PageAuth.IsLocalRequest"/>).
    /// </summary>
    private static bool CanReview(HttpContext context, out string reviewer, out string refusal)
    {
        reviewer = "";
        refusal = "";
        if (context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.Enabled)
        {
            var key = PageAuth.SessionKey(context);
            if (key is null)
            {
                refusal = "Editing and approving briefings need a sign-in with an editor key.";
                return false;
            }

            if (!ApiScopes.Satisfies(key.Scope, ApiScopes.Editor))
            {
                refusal = $"Editing and approving briefings need the '{ApiScopes.Editor}' scope; you are signed in with key {key.Prefix}… ({key.Name}), which has the '{key.Scope}' scope. Ask an admin for an editor key (finnews keys create --scope editor) and sign in with it.";
                return false;
            }

            reviewer = string.Create(C, $"{key.Name} (key {key.Id})");
            return true;
        }

        if (!PageAuth.IsLocalRequest(context, out var why))
        {
            refusal = $"Editing and approving briefings are turned off: Auth:Enabled is false and {why}. Enable auth (Auth:Enabled = true) and sign in with an editor key (finnews keys create --scope editor), or use the pages on this machine at http://localhost.";
            return false;
        }

        reviewer = "local user (auth off)";
        return true;
    }

    private static IResult Forbidden(string refusal) =>
        Layout.Page("Not allowed", $"<h1>Not allowed</h1><p class=\"error\">{E.Encode(refusal)}</p>", status: StatusCodes.Status403Forbidden);

    private static IResult NotFound(string id) =>
        Layout.Page("Not found", $"<h1>Not found</h1><p>No briefing with id {E.Encode(id)}.</p>", status: 404);

    private static IResult UnknownUnsubscribeLink() =>
        Layout.Page("Unknown link", "<h1>Unknown link</h1><p class=\"error\">This unsubscribe link is not valid. Use the link from your latest digest, or reply to it.</p>", status: 404);

    /// <summary>The statement editor, filled with <paramref name="text"/>; <paramref name="problems"/> name what kept statements from saving.</summary>
    private static string EditForm(BriefingDocument briefing, string antiforgeryField, Func<int, int, string> text, Dictionary<(int, int), string> problems)
    {
        var id = Uri.EscapeDataString(briefing.Id);
        var sb = new StringBuilder();
        sb.Append(C, $"<h1>Edit: {E.Encode(briefing.Title)}</h1>");
        if (problems.Count > 0)
        {
            sb.Append("<div class=\"error\"><p>Nothing was saved. Each statement keeps its citations, so a changed statement must rest on them:</p><ul>");
            foreach (var ((si, bi), problem) in problems)
            {
                var section = briefing.Sections[si];
                var typed = text(si, bi);
                sb.Append(C, $"<li>Statement {bi + 1} of {E.Encode(section.Title)} (\"{E.Encode(typed.Length > 80 ? typed[..80] + "…" : typed)}\"): {E.Encode(problem)}</li>");
            }

            sb.Append("</ul><p>Reword it with figures and tickers from the cited sources, or empty it to remove the statement.</p></div>");
        }

        sb.Append("<p class=\"muted\">Statements keep their citations: a changed statement is saved only when every figure and ticker in it appears in the sources it cites. Empty a statement to remove it. Saving clears any approval; the original briefing is kept.</p>");
        sb.Append(C, $"<form method=\"post\" action=\"/briefings/{id}/edit\" class=\"edit\">{antiforgeryField}");
        for (var si = 0; si < briefing.Sections.Count; si++)
        {
            var section = briefing.Sections[si];
            sb.Append("<h2>").Append(E.Encode(section.Title)).Append("</h2>");
            for (var bi = 0; bi < section.Bullets.Count; bi++)
            {
                var bullet = section.Bullets[bi];
                sb.Append(C, $"<label class=\"bullet-edit\">{E.Encode(bullet.Headline ?? "")} <span class=\"muted\">[{string.Join("][", bullet.Citations)}]</span><textarea name=\"b-{si}-{bi}\" rows=\"3\" maxlength=\"2000\">{E.Encode(text(si, bi))}</textarea>");
                if (problems.TryGetValue((si, bi), out var problem))
                {
                    sb.Append("<span class=\"error\">").Append(E.Encode(problem)).Append("</span>");
                }

                sb.Append("</label>");
            }
        }

        return sb.Append("<button type=\"submit\">Save</button></form>").ToString();
    }

    private static string Time(DateTimeOffset? t) => t?.ToString("yyyy-MM-dd HH:mm", C) ?? "-";

    /// <summary>
    /// Where a briefing stands among the versions of its edition: a banner on a superseded one pointing to the current
    /// version, and on a re-run the versions it replaced.
    /// </summary>
    private static string Versions(IBriefingStore store, BriefingDocument briefing)
    {
        var versions = store.BriefingVersions(briefing.Edition);
        if (versions.Count < 2)
        {
            return "";
        }

        var sb = new StringBuilder();
        var current = versions[0];
        var self = versions.FirstOrDefault(v => v.Id == briefing.Id);
        sb.Append(C, $"<aside class=\"versions{(current.Id == briefing.Id ? "" : " superseded")}\"><p>");
        sb.Append(current.Id == briefing.Id
            ? string.Create(C, $"Version {current.Version} of the {E.Encode(current.Edition)} edition; it replaces earlier versions:")
            : string.Create(C, $"Superseded: this is version {self?.Version} of the {E.Encode(current.Edition)} edition. The current version is <a href=\"/briefings/{Uri.EscapeDataString(current.Id)}\">version {current.Version}</a>, written {current.CreatedAt:yyyy-MM-dd HH:mm} UTC. All versions:"));
        sb.Append("</p><ul>");
        foreach (var v in versions)
        {
            sb.Append("<li>").Append(v.Id == briefing.Id ? $"version {v.Version} (this page)" : $"<a href=\"/briefings/{Uri.EscapeDataString(v.Id)}\">version {v.Version}</a>");
            sb.Append(C, $" <span class=\"muted\">as of {v.AsOf:yyyy-MM-dd HH:mm} UTC, written {v.CreatedAt:yyyy-MM-dd HH:mm} UTC by the {E.Encode(v.Writer)} writer</span></li>");
        }

        return sb.Append("</ul></aside>").ToString();
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
            sb.Append(C, $"<li><a href=\"/briefings/{Uri.EscapeDataString(b.Id)}\">{E.Encode(b.Title)}</a> <span class=\"muted\">news to {b.AsOf:yyyy-MM-dd HH:mm} UTC{(b.Version > 1 ? $", version {b.Version}" : "")}, written {b.CreatedAt:yyyy-MM-dd HH:mm} UTC by the {E.Encode(b.Writer)} writer</span></li>");
        }

        return sb.Append("</ul>").ToString();
    }
}
