using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FinNews.Core.Search;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

/// <summary>Every error answer is a clear ProblemDetails (API) or page (browser), carries the security headers, and never shows a stack trace.</summary>
public class ErrorResponseTests
{
    [Fact]
    public async Task A_numeric_search_mode_is_a_400_on_the_api_and_the_page()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        var api = await http.GetAsync("/api/v1/search?q=bank&mode=5");
        var page = await http.GetAsync("/search?q=bank&mode=5");

        api.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await api.Content.ReadAsStringAsync()).Should().Contain("mode '5'");
        page.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        page.Headers.Contains("Content-Security-Policy").Should().BeTrue();
    }

    [Fact]
    public async Task A_two_megabyte_question_is_413_with_security_headers()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        var body = "{\"question\": \"" + new string('a', 2 * 1024 * 1024) + "\"}";

        // Expect: 100-continue, as large uploads send it: the server refuses before the body is sent, so the client
        // never writes into a connection the server has already answered and closed.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ask") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        text.Should().Contain("1 MiB").And.NotContain("   at ");
        response.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("default-src 'none'");
        response.Headers.GetValues("X-Content-Type-Options").Single().Should().Be("nosniff");
    }

    [Fact]
    public async Task A_failure_inside_the_server_is_a_500_page_or_problem_with_security_headers_and_no_stack_trace()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        await app.Services.GetRequiredService<ISearchIndex>().InitializeAsync();
        // A damaged index: its metadata table is gone, so every search fails inside the server.
        using (var sqlite = new Microsoft.Data.Sqlite.SqliteConnection(app.Services.GetRequiredService<SqliteStore>().ConnectionString))
        {
            sqlite.Open();
            using var drop = sqlite.CreateCommand();
            drop.CommandText = "DROP TABLE search_meta";
            drop.ExecuteNonQuery();
        }

        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var pageRequest = new HttpRequestMessage(HttpMethod.Get, "/search?q=bank");
        pageRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        using var page = await http.SendAsync(pageRequest);
        using var api = await http.GetAsync("/api/v1/search?q=bank");

        foreach (var response in new[] { page, api })
        {
            response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
            response.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("default-src 'none'");
            response.Headers.GetValues("X-Frame-Options").Single().Should().Be("DENY");
            var text = await response.Content.ReadAsStringAsync();
            text.Should().NotContain("search_fts", "exception messages stay in the log").And.NotContain("   at ");
        }

        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        api.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task An_unknown_page_is_an_html_404_for_browsers_and_a_problem_for_the_api()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var pageRequest = new HttpRequestMessage(HttpMethod.Get, "/no-such-page");
        pageRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        using var page = await http.SendAsync(pageRequest);
        using var api = await http.GetAsync("/api/v1/no-such-thing");

        page.StatusCode.Should().Be(HttpStatusCode.NotFound);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        (await page.Content.ReadAsStringAsync()).Should().Contain("Not found").And.Contain("/no-such-page");
        api.StatusCode.Should().Be(HttpStatusCode.NotFound);
        api.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Theory]
    [InlineData("America")]
    [InlineData("../../../../etc/passwd")]
    public async Task A_time_zone_that_is_a_folder_or_a_path_is_a_400_naming_it(string zone)
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Auth:Enabled", true);
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var admin = app.Services.GetRequiredService<FinNews.Core.Storage.Sqlite.SqliteApiKeyStore>().Create("ops", "admin").Key;
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        http.DefaultRequestHeaders.Add("X-Api-Key", admin);

        var response = await http.PostAsync("/api/v1/subscribers",
            new StringContent($"{{\"email\": \"analyst@example.com\", \"timeZone\": \"{zone}\"}}", Encoding.UTF8, "application/json"));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Contain(zone);
    }
}
