using System.Net;
using System.Text.RegularExpressions;
using FinNews.Core.Storage;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

public partial class ReviewTests
{
    [Fact]
    public async Task An_analyst_approves_and_edits_a_briefing_through_the_pages_with_antiforgery()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);
        var store = app.Services.GetRequiredService<SqliteStore>();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = new Uri(app.Urls.First()) };

        var forged = await http.PostAsync($"/briefings/{briefing.Id}/approve", new FormUrlEncodedContent([new("by", "mallory")]));
        forged.StatusCode.Should().Be(HttpStatusCode.BadRequest, "a post without this site's token is refused");
        store.Approval(briefing.Id).Should().BeNull();

        var page = await http.GetStringAsync($"/briefings/{briefing.Id}");
        var approve = await http.PostAsync($"/briefings/{briefing.Id}/approve", new FormUrlEncodedContent([Token(page), new("by", "Dana Analyst")]));
        approve.StatusCode.Should().Be(HttpStatusCode.Redirect);
        store.Approval(briefing.Id)!.Value.By.Should().Be("Dana Analyst");
        (await http.GetStringAsync($"/briefings/{briefing.Id}")).Should().Contain("Approved by Dana Analyst");

        var edit = await http.GetStringAsync($"/briefings/{briefing.Id}/edit");
        var fields = Field().Matches(edit).Select(m => m.Groups[1].Value).ToList();
        fields.Should().HaveCount(briefing.Sections.Sum(s => s.Bullets.Count));
        var form = new List<KeyValuePair<string, string>> { Token(edit) };
        form.AddRange(fields.Select(f => new KeyValuePair<string, string>(f, f == "b-0-0" ? "Kelvane agreed to buy Sorrel for $4.2 billion in cash. <b>Edited</b>" : f == "b-0-1" ? "" : Text(briefing, f))));
        (await http.PostAsync($"/briefings/{briefing.Id}/edit", new FormUrlEncodedContent(form))).StatusCode.Should().Be(HttpStatusCode.Redirect);

        var saved = store.GetBriefing(briefing.Id)!;
        saved.Sections[0].Bullets[0].Text.Should().StartWith("Kelvane agreed");
        saved.Sections[0].Bullets[0].Citations.Should().Equal(briefing.Sections[0].Bullets[0].Citations, "citations stay as written");
        saved.Sections[0].Bullets.Should().HaveCount(briefing.Sections[0].Bullets.Count - 1, "an emptied statement is removed");
        store.Approval(briefing.Id).Should().BeNull("an edit needs approving again");
        (await http.GetStringAsync($"/briefings/{briefing.Id}")).Should().Contain("&lt;b&gt;Edited&lt;/b&gt;", "edited text is encoded like any other");
    }

    private static KeyValuePair<string, string> Token(string html)
    {
        var m = Regex.Match(html, "<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]+)\">");
        m.Success.Should().BeTrue("the form carries an antiforgery token");
        return new(m.Groups[1].Value, WebUtility.HtmlDecode(m.Groups[2].Value));
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
        var key = app.Services.GetRequiredService<FinNews.Core.Access.ApiKeyStore>().Create("analyst", "reader").Key;
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
