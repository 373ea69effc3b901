using System.Net;
using System.Text.RegularExpressions;
using FinNews.Core;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

public partial class ReviewTests
{
    [Fact]
    public async Task An_analyst_on_this_machine_approves_and_edits_a_briefing_through_the_pages_with_antiforgery()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var briefing = await BriefAsync(app);
        var store = app.Services.GetRequiredService<SqliteStore>();
        using var http = PageClient.Create(app);

        var forged = await http.PostAsync($"/briefings/{briefing.Id}/approve", new FormUrlEncodedContent([]));
        forged.StatusCode.Should().Be(HttpStatusCode.BadRequest, "a post without this site's token is refused");
        store.Approval(briefing.Id).Should().BeNull();

        var page = await http.GetStringAsync($"/briefings/{briefing.Id}");
        page.Should().NotContain("name=\"by\"", "the approver is not typed in");
        var approve = await http.PostAsync($"/briefings/{briefing.Id}/approve", new FormUrlEncodedContent([PageClient.Token(page), new("by", "Mallory")]));
        approve.StatusCode.Should().Be(HttpStatusCode.Redirect);
        store.Approval(briefing.Id)!.Value.By.Should().Be("local user (auth off)", "with auth off only this machine may approve, and a typed name is ignored");
        (await http.GetStringAsync($"/briefings/{briefing.Id}")).Should().Contain("Approved by local user (auth off)");

        var edit = await http.GetStringAsync($"/briefings/{briefing.Id}/edit");
        var fields = Field().Matches(edit).Select(m => m.Groups[1].Value).ToList();
        fields.Should().HaveCount(briefing.Sections.Sum(s => s.Bullets.Count));
        var form = new List<KeyValuePair<string, string>> { PageClient.Token(edit) };
        form.AddRange(fields.Select(f => new KeyValuePair<string, string>(f, f == "b-0-0" ? "Kelvane agreed to buy Sorrel for $4.2 billion in cash. <b>Edited</b>" : f == "b-0-1" ? "" : Text(briefing, f))));
        (await http.PostAsync($"/briefings/{briefing.Id}/edit", new FormUrlEncodedContent(form))).StatusCode.Should().Be(HttpStatusCode.Redirect);

        var saved = store.GetBriefing(briefing.Id)!;
        saved.Sections[0].Bullets[0].Text.Should().StartWith("Kelvane agreed");
        saved.Sections[0].Bullets[0].Citations.Should().Equal(briefing.Sections[0].Bullets[0].Citations, "the cited sources support every figure of the new words");
        saved.Sections[0].Bullets.Should().HaveCount(briefing.Sections[0].Bullets.Count - 1, "an emptied statement is removed");
        store.Approval(briefing.Id).Should().BeNull("an edit needs approving again");
        (await http.GetStringAsync($"/briefings/{briefing.Id}")).Should().Contain("&lt;b&gt;Edited&lt;/b&gt;", "edited text is encoded like any other");
    }

    [Fact]
    public async Task An_edit_that_puts_new_figures_or_tickers_under_the_old_citations_is_refused_naming_the_statement()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var briefing = await BriefAsync(app);
        var store = app.Services.GetRequiredService<SqliteStore>();
        using var http = PageClient.Create(app);
        var edit = await http.GetStringAsync($"/briefings/{briefing.Id}/edit");
        var fields = Field().Matches(edit).Select(m => m.Groups[1].Value).ToList();
        var section = briefing.Sections[0];
        var rewritten = "Sorrel files for bankruptcy with $987.6 billion of debt, says SGRT.";

        var form = new List<KeyValuePair<string, string>> { PageClient.Token(edit) };
        form.AddRange(fields.Select(f => new KeyValuePair<string, string>(f, f == "b-0-1" ? rewritten : Text(briefing, f))));
        var refused = await http.PostAsync($"/briefings/{briefing.Id}/edit", new FormUrlEncodedContent(form));

        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var html = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
        html.Should().Contain($"Statement 2 of {section.Title}").And.Contain("Nothing was saved");
        html.Should().Contain("figure '$987.6 billion' is not in the cited source(s)").And.Contain("ticker 'SGRT' is not in the cited source(s)");
        html.Should().Contain(rewritten, "the typed text comes back to be corrected");
        html.Should().NotContain("at FinNews", "no stack trace");
        store.GetBriefing(briefing.Id)!.Sections[0].Bullets[1].Text.Should().Be(section.Bullets[1].Text, "nothing was saved");

        // A post that leaves statements out keeps them: only a statement sent empty is removed.
        var partial = await http.PostAsync($"/briefings/{briefing.Id}/edit", new FormUrlEncodedContent([PageClient.Token(edit), new("b-0-1", "")]));
        partial.StatusCode.Should().Be(HttpStatusCode.Redirect);
        var saved = store.GetBriefing(briefing.Id)!;
        saved.Sections.Select(s => s.Bullets.Count).Should().Equal(briefing.Sections.Select((s, i) => s.Bullets.Count - (i == 0 ? 1 : 0)));
        saved.Sections[0].Bullets[1].Should().BeEquivalentTo(section.Bullets[2]);
    }

    [Fact]
    public async Task With_auth_on_only_editor_keys_review_and_the_approver_is_the_keys_owner()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Auth:Enabled", true);
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var briefing = await BriefAsync(app);
        var store = app.Services.GetRequiredService<SqliteStore>();
        var keys = app.Services.GetRequiredService<FinNews.Core.Storage.Sqlite.SqliteApiKeyStore>();
        var reader = keys.Create("Rita Reader", "reader");
        var editor = keys.Create("Dana Editor", "editor");

        using var asReader = PageClient.Create(app);
        (await PageClient.SignInAsync(asReader, reader.Key)).StatusCode.Should().Be(HttpStatusCode.Redirect);
        var readOnly = await asReader.GetStringAsync($"/briefings/{briefing.Id}");
        readOnly.Should().Contain(WebUtility.HtmlEncode(briefing.Sections[0].Bullets[0].Text), "readers see the briefing");
        readOnly.Should().NotContain("/approve\"").And.NotContain("/edit\"", "the review panel is not offered to readers");
        readOnly.Should().Contain("Read-only");

        var editPage = await asReader.GetAsync($"/briefings/{briefing.Id}/edit");
        editPage.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        editPage.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        WebUtility.HtmlDecode(await editPage.Content.ReadAsStringAsync()).Should().Contain("need the 'editor' scope").And.Contain("which has the 'reader' scope");
        (await PageClient.PostFormAsync(asReader, $"/briefings/{briefing.Id}/approve", "/login")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var rewrite = await PageClient.PostFormAsync(asReader, $"/briefings/{briefing.Id}/edit", "/login", new KeyValuePair<string, string>("b-0-0", "Edited by a reader."));
        rewrite.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        store.Approval(briefing.Id).Should().BeNull();
        store.GetBriefing(briefing.Id)!.Sections[0].Bullets[0].Text.Should().Be(briefing.Sections[0].Bullets[0].Text);

        using var asEditor = PageClient.Create(app);
        await PageClient.SignInAsync(asEditor, editor.Key);
        var panel = await asEditor.GetStringAsync($"/briefings/{briefing.Id}");
        panel.Should().Contain("Approve as Dana Editor (key ").And.Contain($"/briefings/{briefing.Id}/edit\"").And.NotContain("name=\"by\"");
        (await asEditor.PostAsync($"/briefings/{briefing.Id}/approve", new FormUrlEncodedContent([PageClient.Token(panel), new("by", "Someone Else")])))
            .StatusCode.Should().Be(HttpStatusCode.Redirect);
        store.Approval(briefing.Id)!.Value.By.Should().Be($"Dana Editor (key {editor.Record.Id})");
        (await asReader.GetStringAsync($"/briefings/{briefing.Id}")).Should().Contain($"Approved by Dana Editor (key {editor.Record.Id})");
    }

    [Fact]
    public async Task With_auth_off_the_review_forms_refuse_requests_that_do_not_come_from_this_machine()
    {
        using var env = TestEnvironment.Create();
        var lan = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        var urls = "http://127.0.0.1:0" + (lan is null ? "" : $";http://{lan}:0");
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, urls, withScheduler: false);
        await app.StartAsync();
        var briefing = await BriefAsync(app);
        var store = app.Services.GetRequiredService<SqliteStore>();

        // Through a reverse proxy on this machine every visitor's connection is local; the forwarding header gives it away.
        using var proxied = PageClient.Create(app);
        // A valid form token (taken before the header is added), so a refusal is the locality check's, not the token's.
        var token = PageClient.Token(await proxied.GetStringAsync($"/briefings/{briefing.Id}"));
        proxied.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.9");
        var viaProxy = await proxied.GetAsync($"/briefings/{briefing.Id}/edit");
        viaProxy.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        WebUtility.HtmlDecode(await viaProxy.Content.ReadAsStringAsync()).Should().Contain("Auth:Enabled is false").And.Contain("X-Forwarded-For");
        (await proxied.PostAsync($"/briefings/{briefing.Id}/approve", new FormUrlEncodedContent([token]))).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await proxied.GetStringAsync($"/briefings/{briefing.Id}")).Should().NotContain("/approve\"").And.Contain("Read-only");

        // A page fetched under another host name (DNS rebinding) is not this machine's either.
        using var rebound = PageClient.Create(app);
        rebound.DefaultRequestHeaders.Host = "finnews.attacker.example";
        (await rebound.GetAsync($"/briefings/{briefing.Id}/edit")).StatusCode.Should().Be(HttpStatusCode.Forbidden);

        if (lan is not null)
        {
            var port = new Uri(app.Urls.First(u => u.Contains(lan.ToString(), StringComparison.Ordinal))).Port;
            using var remote = PageClient.Create(new Uri($"http://{lan}:{port}"));
            var fromLan = await remote.GetAsync($"/briefings/{briefing.Id}/edit");
            fromLan.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            WebUtility.HtmlDecode(await fromLan.Content.ReadAsStringAsync()).Should().Contain($"came from {lan}").And.Contain("Enable auth");
            // No page gives a remote visitor a form token with auth off; the locality check refuses before the token is read.
            var rewrite = await remote.PostAsync($"/briefings/{briefing.Id}/edit", new FormUrlEncodedContent([new("b-0-0", "Rewritten from the network.")]));
            rewrite.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        }

        store.Approval(briefing.Id).Should().BeNull();
        store.GetBriefing(briefing.Id)!.Sections[0].Bullets[0].Text.Should().Be(briefing.Sections[0].Bullets[0].Text);
    }

    private static async Task<FinNews.Core.Briefing.BriefingDocument> BriefAsync(Microsoft.AspNetCore.Builder.WebApplication app)
    {
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        return (await pipeline.BriefAsync(null, CancellationToken.None)).Briefing;
    }

    private static string Text(FinNews.Core.Briefing.BriefingDocument b, string field)
    {
        var parts = field.Split('-');
        return b.Sections[int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)].Bullets[int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)].Text;
    }

    [GeneratedRegex("<textarea name=\"(b-\\d+-\\d+)\"")]
    private static partial Regex Field();
}

public class PageAuthTests
{
    [Fact]
    public async Task With_auth_on_pages_need_a_key_sign_in_sets_an_http_only_cookie_and_health_stays_open()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Auth:Enabled", true);
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var key = app.Services.GetRequiredService<FinNews.Core.Storage.Sqlite.SqliteApiKeyStore>().Create("analyst", "reader").Key;
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = new Uri(app.Urls.First()) };

        var gate = await http.GetAsync("/markets");
        gate.StatusCode.Should().Be(HttpStatusCode.Redirect);
        gate.Headers.Location!.ToString().Should().Be("/login?return=%2Fmarkets");
        (await http.GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.OK);

        var login = await http.GetStringAsync("/login?return=//evil.example/");
        login.Should().Contain("name=\"return\" value=\"/\"", "only local return paths are kept");
        var token = Regex.Match(login, "<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]+)\">");
        var bad = await http.PostAsync("/login", new FormUrlEncodedContent([new(token.Groups[1].Value, WebUtility.HtmlDecode(token.Groups[2].Value)), new("key", "fn_wrong"), new("return", "/markets")]));
        bad.StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        var good = await http.PostAsync("/login", new FormUrlEncodedContent([new(token.Groups[1].Value, WebUtility.HtmlDecode(token.Groups[2].Value)), new("key", key), new("return", "/markets")]));
        good.StatusCode.Should().Be(HttpStatusCode.Redirect);
        good.Headers.Location!.ToString().Should().Be("/markets");
        good.Headers.GetValues("Set-Cookie").Single().Should().Contain("httponly").And.Contain("samesite=strict");
        (await http.GetAsync("/markets")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
