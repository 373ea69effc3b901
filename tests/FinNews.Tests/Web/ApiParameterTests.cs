using System.Net;
using System.Text;
using System.Text.Json;
using FinNews.Core;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

/// <summary>The API's parameters behave as its document says: formats, relative times, and 400s that name the parameter and value.</summary>
public class ApiParameterTests
{
    [Fact]
    public async Task Latest_honours_format_exactly_as_a_briefing_by_id_does()
    {
        using var env = TestEnvironment.Create();
        await using var app = await StartAsync(env);
        using var http = Client(app);
        (await http.GetAsync("/api/v1/briefings/latest?format=pdf")).StatusCode.Should().Be(HttpStatusCode.BadRequest, "a bad format is a 400 even before any briefing exists");
        (await http.GetAsync("/api/v1/briefings/latest?format=md")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);

        foreach (var (format, mediaType) in new[] { ("json", "application/json"), ("md", "text/markdown"), ("html", "text/html"), ("MD", "text/markdown") })
        {
            using var latest = await http.GetAsync($"/api/v1/briefings/latest?format={format}");
            using var byId = await http.GetAsync($"/api/v1/briefings/{briefing.Id}?format={format}");
            latest.StatusCode.Should().Be(HttpStatusCode.OK, format);
            latest.Content.Headers.ContentType!.MediaType.Should().Be(mediaType, format);
            (await latest.Content.ReadAsStringAsync()).Should().Be(await byId.Content.ReadAsStringAsync(), "one rendering path serves both");
        }

        (await http.GetStringAsync("/api/v1/briefings/latest")).Should().StartWith("{", "json is the default");
        using var bad = await http.GetAsync("/api/v1/briefings/latest?format=pdf");
        await ShouldBeBadParameterAsync(bad, "format", "pdf");
    }

    [Fact]
    public async Task Since_and_until_take_durations_counted_back_from_the_injected_clock_as_well_as_instants()
    {
        using var env = TestEnvironment.Create();
        await using var app = await StartAsync(env);
        await app.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        using var http = Client(app);
        // The test clock stands at 2026-11-21T06:00Z, so 24h back is 2026-11-20T06:00Z (the wall clock is days later).
        var everything = await ArticleIdsAsync(http, "");
        var since = await ArticleIdsAsync(http, "&since=24h");
        var until = await ArticleIdsAsync(http, "&until=24h");

        since.Should().NotBeEmpty().And.BeEquivalentTo(await ArticleIdsAsync(http, "&since=2026-11-20T06:00:00Z"));
        (await ArticleIdsAsync(http, "&since=1440m")).Should().BeEquivalentTo(since);
        (await ArticleIdsAsync(http, "&since=1d")).Should().BeEquivalentTo(since);
        until.Should().NotBeEmpty().And.BeEquivalentTo(await ArticleIdsAsync(http, "&until=2026-11-20T06:00:00Z"));
        since.Concat(until).Should().BeEquivalentTo(everything, "since is inclusive and until exclusive, at the same instant");
        (await ArticleIdsAsync(http, "&since=2w&until=24h")).Should().BeEquivalentTo(until);

        env.Clock.Advance(TimeSpan.FromDays(30));
        (await ArticleIdsAsync(http, "&since=24h")).Should().BeEmpty("relative times follow the injected clock");
    }

    [Theory]
    [InlineData("/api/v1/search?q=bank&limit=abc", "limit", "abc")]
    [InlineData("/api/v1/search?q=bank&limit=0", "limit", "0")]
    [InlineData("/api/v1/search?q=bank&limit=-5", "limit", "-5")]
    [InlineData("/api/v1/search?q=bank&limit=101", "limit", "101")]
    [InlineData("/api/v1/search?q=bank&collapse=maybe", "collapse", "maybe")]
    [InlineData("/api/v1/search?q=bank&diversity=x", "diversity", "x")]
    [InlineData("/api/v1/search?q=bank&diversity=1.5", "diversity", "1.5")]
    [InlineData("/api/v1/search?q=bank&mode=fuzzy", "mode", "fuzzy")]
    [InlineData("/api/v1/search?q=bank&since=yesterday", "since", "yesterday")]
    [InlineData("/api/v1/search?q=bank&since=99999999999d", "since", "99999999999d")]
    [InlineData("/api/v1/search?q=bank&until=24x", "until", "24x")]
    [InlineData("/api/v1/briefings?page=abc", "page", "abc")]
    [InlineData("/api/v1/briefings?page=0", "page", "0")]
    [InlineData("/api/v1/briefings?pageSize=0", "pageSize", "0")]
    [InlineData("/api/v1/briefings?pageSize=500", "pageSize", "500")]
    [InlineData("/api/v1/briefings/any-id?format=pdf", "format", "pdf")]
    public async Task A_bad_query_parameter_is_a_400_whose_detail_names_the_parameter_and_the_value(string url, string parameter, string value)
    {
        using var env = TestEnvironment.Create();
        await using var app = await StartAsync(env);
        using var http = Client(app);

        using var response = await http.GetAsync(url);

        await ShouldBeBadParameterAsync(response, parameter, value);
    }

    [Fact]
    public async Task Several_bad_parameters_are_named_in_one_400_and_a_missing_query_too()
    {
        using var env = TestEnvironment.Create();
        await using var app = await StartAsync(env);
        using var http = Client(app);

        using var both = await http.GetAsync("/api/v1/search?q=bank&limit=abc&collapse=maybe");
        using var missing = await http.GetAsync("/api/v1/search?limit=5");

        using var problem = await ShouldBeBadParameterAsync(both, "limit", "abc");
        problem.RootElement.GetProperty("detail").GetString().Should().Contain("collapse 'maybe'");
        problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["limit", "collapse"]);
        using var noQuery = await ShouldBeBadParameterAsync(missing, "q", "");
        noQuery.RootElement.GetProperty("detail").GetString().Should().Contain("'q' is required");
    }

    [Fact]
    public async Task Since_after_until_is_a_400_naming_both()
    {
        using var env = TestEnvironment.Create();
        await using var app = await StartAsync(env);
        using var http = Client(app);

        using var response = await http.GetAsync("/api/v1/search?q=bank&since=2026-11-22T00:00:00Z&until=2026-11-20T00:00:00Z");
        using var relative = await http.GetAsync("/api/v1/search?q=bank&since=1h&until=2d");

        using var problem = await ShouldBeBadParameterAsync(response, "since", "2026-11-22T00:00:00Z");
        problem.RootElement.GetProperty("detail").GetString().Should().Contain("until '2026-11-20T00:00:00Z'");
        using var relativeProblem = await ShouldBeBadParameterAsync(relative, "since", "1h");
        relativeProblem.RootElement.GetProperty("detail").GetString().Should().Contain("until '2d'");
    }

    [Fact]
    public async Task Unknown_query_parameters_and_empty_values_are_ignored()
    {
        using var env = TestEnvironment.Create();
        await using var app = await StartAsync(env);
        using var http = Client(app);

        (await http.GetAsync("/api/v1/search?q=bank&colour=blue&since=&limit=")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync("/api/v1/briefings?sort=oldest")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_body_the_framework_cannot_read_is_a_400_whose_detail_names_the_body_and_where_it_broke()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Auth:Enabled", true);
        await using var app = await StartAsync(env);
        var admin = app.Services.GetRequiredService<FinNews.Core.Storage.Sqlite.SqliteApiKeyStore>().Create("ops", "admin").Key;
        using var http = Client(app);
        http.DefaultRequestHeaders.Add("X-Api-Key", admin);

        using var broken = await http.PostAsync("/api/v1/feeds", new StringContent("{\"id\": \"x\", ", Encoding.UTF8, "application/json"));
        using var wrongType = await http.PostAsync("/api/v1/subscribers", new StringContent("{\"email\": 5}", Encoding.UTF8, "application/json"));

        foreach (var response in new[] { broken, wrongType })
        {
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        }

        (await DetailAsync(broken)).Should().Contain("body").And.Contain("LineNumber");
        (await DetailAsync(wrongType)).Should().Contain("body").And.Contain("$.email");
        using var notJson = await http.PostAsync("/api/v1/subscribers", new StringContent("email=a@example.com", Encoding.UTF8, "text/plain"));
        notJson.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType, "as the document lists");
        (await DetailAsync(notJson)).Should().Contain("text/plain");
    }

    internal static async Task<WebApplication> StartAsync(TestEnvironment env)
    {
        var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        return app;
    }

    internal static HttpClient Client(WebApplication app) => new() { BaseAddress = new Uri(app.Urls.First()) };

    private static async Task<List<string>> ArticleIdsAsync(HttpClient http, string filters)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/v1/search?q=bank&mode=vector&limit=100&collapse=false" + filters));
        return doc.RootElement.EnumerateArray().Select(r => r.GetProperty("articleId").GetString()!).ToList();
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("detail").GetString()!;
    }

    private static async Task<JsonDocument> ShouldBeBadParameterAsync(HttpResponseMessage response, string parameter, string value)
    {
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var detail = doc.RootElement.GetProperty("detail").GetString();
        detail.Should().Contain(parameter).And.Contain($"'{value}'".Replace("''", "'", StringComparison.Ordinal));
        doc.RootElement.GetProperty("errors").TryGetProperty(parameter, out _).Should().BeTrue($"errors is keyed by parameter name: {detail}");
        return doc;
    }
}
