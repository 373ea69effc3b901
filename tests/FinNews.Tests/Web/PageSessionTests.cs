using System.Net;
using FinNews.Core.Access;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

public sealed class PageSessionTests : IDisposable
{
    private readonly TestEnvironment _env = TestEnvironment.Create();
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2025, 3, 4, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => _env.Dispose();

    private async Task<WebApplication> StartAsync(bool auth = true)
    {
        _env.SetSetting("Auth:Enabled", auth);
        var app = AppHost.BuildWeb(_env.Paths, _clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        return app;
    }

    private static string SessionCookie(HttpResponseMessage signIn) =>
        signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("finnews_session=", StringComparison.Ordinal));

    [Fact]
    public async Task The_session_cookie_holds_no_key_material_and_revoking_the_key_ends_the_session_at_once()
    {
        await using var app = await StartAsync();
        var keys = app.Services.GetRequiredService<SqliteApiKeyStore>();
        var key = keys.Create("analyst", ApiScopes.Reader);
        using var http = PageClient.Create(app);

        var signIn = await PageClient.SignInAsync(http, key.Key, "/markets");

        signIn.StatusCode.Should().Be(HttpStatusCode.Redirect);
        var cookie = SessionCookie(signIn);
        cookie.Should().Contain("httponly").And.Contain("samesite=strict");
        var value = cookie["finnews_session=".Length..cookie.IndexOf(';', StringComparison.Ordinal)];
        value.Should().NotContain(key.Key).And.NotContain(key.Key[ApiKeyRules.KeyPrefix.Length..][..8]).And.NotContain(key.Record.Prefix, "the cookie is an opaque session, not the key");
        (await http.GetAsync("/markets")).StatusCode.Should().Be(HttpStatusCode.OK);

        keys.Revoke(key.Record.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Should().BeTrue();
        var refused = await http.GetAsync("/markets");
        refused.StatusCode.Should().Be(HttpStatusCode.Redirect, "a revoked key's session stops working at once");
        refused.Headers.Location!.ToString().Should().StartWith("/login");
    }

    [Fact]
    public async Task A_session_survives_a_restart_but_not_its_expiry_and_a_forged_cookie_is_refused()
    {
        string cookie;
        await using (var first = await StartAsync())
        {
            var key = first.Services.GetRequiredService<SqliteApiKeyStore>().Create("analyst", ApiScopes.Reader);
            using var http = PageClient.Create(first);
            cookie = SessionCookie(await PageClient.SignInAsync(http, key.Key)).Split(';')[0];
        }

        Directory.EnumerateFiles(Path.Combine(_env.DataDirectory, "keys"), "*.xml").Should().NotBeEmpty("the key ring is kept in the data folder");
        await using var second = await StartAsync();
        using var restarted = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(second.Urls.First()) };
        HttpRequestMessage Markets(string c) => new(HttpMethod.Get, "/markets") { Headers = { { "Cookie", c } } };

        (await restarted.SendAsync(Markets(cookie))).StatusCode.Should().Be(HttpStatusCode.OK, "another process over the same data folder accepts the session");
        (await restarted.SendAsync(Markets(cookie[..^4] + "AAAA"))).StatusCode.Should().Be(HttpStatusCode.Redirect, "a tampered cookie is refused");
        (await restarted.SendAsync(Markets("finnews_session=fn_not-a-session"))).StatusCode.Should().Be(HttpStatusCode.Redirect);

        _clock.Now = _clock.Now.AddHours(12);
        var expired = await restarted.SendAsync(Markets(cookie));
        expired.StatusCode.Should().Be(HttpStatusCode.Redirect, "sessions last Auth:SessionHours (12 by default)");
        expired.Headers.GetValues("Set-Cookie").Should().Contain(c => c.StartsWith("finnews_session=;", StringComparison.Ordinal), "the dead cookie is removed");
    }

    [Fact]
    public async Task Pages_count_against_the_keys_rate_limit_with_the_api_and_answer_429_with_retry_after()
    {
        await using var app = await StartAsync();
        var key = app.Services.GetRequiredService<SqliteApiKeyStore>().Create("tight", ApiScopes.Reader, requestsPerMinute: 5);
        using var http = PageClient.Create(app);
        await PageClient.SignInAsync(http, key.Key);

        for (var i = 0; i < 5; i++)
        {
            (await http.GetAsync("/markets")).StatusCode.Should().Be(HttpStatusCode.OK);
            await http.GetAsync("/static/site.css");
            await http.GetAsync("/favicon.ico"); // what a browser fetches with each page costs nothing
        }

        _clock.Now = _clock.Now.AddSeconds(20);
        var limited = await http.GetAsync("/markets");
        limited.StatusCode.Should().Be((HttpStatusCode)429);
        limited.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(40));
        limited.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        (await limited.Content.ReadAsStringAsync()).Should().Contain("limited to 5 requests per minute").And.Contain("Try again in 40 s");
        using var api = new HttpRequestMessage(HttpMethod.Get, "/api/v1/briefings") { Headers = { { "X-Api-Key", key.Key } } };
        (await http.SendAsync(api)).StatusCode.Should().Be((HttpStatusCode)429, "pages and API share the key's budget");

        _clock.Now = _clock.Now.AddSeconds(40);
        (await http.GetAsync("/markets")).StatusCode.Should().Be(HttpStatusCode.OK, "the next window");
    }

    [Fact]
    public async Task With_auth_off_there_is_no_sign_in_page_and_a_posted_key_sets_no_cookie()
    {
        await using var app = await StartAsync(auth: false);
        var key = app.Services.GetRequiredService<SqliteApiKeyStore>().Create("analyst", ApiScopes.Reader);
        using var http = PageClient.Create(app);

        var get = await http.GetAsync("/login");
        get.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await get.Content.ReadAsStringAsync()).Should().Contain("Sign-in is off").And.Contain("Auth:Enabled");

        var post = await http.PostAsync("/login", new FormUrlEncodedContent([new("key", key.Key)]));
        post.StatusCode.Should().Be(HttpStatusCode.NotFound);
        post.Headers.Contains("Set-Cookie").Should().BeFalse();
    }

    [Fact]
    public async Task Sign_out_is_a_form_post_that_ends_the_session_in_this_browser()
    {
        await using var app = await StartAsync();
        var key = app.Services.GetRequiredService<SqliteApiKeyStore>().Create("analyst", ApiScopes.Reader);
        using var http = PageClient.Create(app);
        await PageClient.SignInAsync(http, key.Key);
        var page = await http.GetStringAsync("/markets");
        page.Should().Contain("action=\"/logout\"").And.Contain("analyst (reader)");

        (await http.PostAsync("/logout", new FormUrlEncodedContent([]))).StatusCode.Should().Be(HttpStatusCode.BadRequest, "no token, no sign-out");
        (await http.GetAsync("/markets")).StatusCode.Should().Be(HttpStatusCode.OK);

        var signOut = await http.PostAsync("/logout", new FormUrlEncodedContent([PageClient.Token(page)]));
        signOut.StatusCode.Should().Be(HttpStatusCode.Redirect);
        signOut.Headers.Location!.ToString().Should().Be("/login");
        var after = await http.GetAsync("/markets");
        after.StatusCode.Should().Be(HttpStatusCode.Redirect);
        after.Headers.Location!.ToString().Should().Be("/login?return=%2Fmarkets");
    }

    [Fact]
    public async Task Sign_in_return_paths_with_control_characters_or_backslashes_fall_back_to_the_home_page()
    {
        await using var app = await StartAsync();
        var key = app.Services.GetRequiredService<SqliteApiKeyStore>().Create("analyst", ApiScopes.Reader);
        using var http = PageClient.Create(app);
        string[] hostile = ["/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "/%0d%0aSet-Cookie:%20x=1", "/%5Cevil.example",
            "/%5C%5Cevil.example", "/markets%5C..%5C..", "%09//evil.example"];

        foreach (var escaped in hostile)
        {
            var login = await http.GetStringAsync("/login?return=" + escaped);
            login.Should().Contain("name=\"return\" value=\"/\"", $"return={escaped} is not a safe local path");
            var signIn = await http.PostAsync("/login", new FormUrlEncodedContent([PageClient.Token(login), new("key", key.Key), new("return", Uri.UnescapeDataString(escaped))]));
            signIn.StatusCode.Should().Be(HttpStatusCode.Redirect);
            signIn.Headers.Location!.OriginalString.Should().Be("/", $"return={escaped} is not a safe local path");
        }

        (await http.GetStringAsync("/login?return=/%00/evil.example")).Should().Contain("name=\"return\" value=\"/\"");
        (await http.GetStringAsync("/login?return=" + Uri.EscapeDataString("/search?q=Kelvane&mode=hybrid")))
            .Should().Contain("name=\"return\" value=\"/search?q=Kelvane&amp;mode=hybrid\"", "a plain local path is kept");
    }

    [Fact]
    public async Task A_form_that_cannot_be_read_gets_a_clear_page_not_a_500()
    {
        await using var app = await StartAsync();
        using var http = PageClient.Create(app);
        var token = PageClient.Token(await http.GetStringAsync("/login"));
        string Form(string key) => $"{Uri.EscapeDataString(token.Key)}={Uri.EscapeDataString(token.Value)}&key={key}&return=/";

        var nul = await http.PostAsync("/login", new StringContent(Form("fn_%00"), System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"));
        nul.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await nul.Content.ReadAsStringAsync()).Should().Contain("The form could not be read");

        // Expect: 100-continue, as large uploads send it: the server refuses before the body is sent, so the client
        // never writes into a connection the server has already answered and closed.
        using var hugeRequest = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new StringContent(Form(new string('a', 2 * 1024 * 1024)), System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"),
        };
        hugeRequest.Headers.ExpectContinue = true;
        var huge = await http.SendAsync(hugeRequest);
        huge.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await huge.Content.ReadAsStringAsync()).Should().Contain("larger than the 1 MiB");
    }
}
