using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

public class AskApiTests
{
    [Fact]
    public async Task Ask_answers_with_citations_as_json_and_as_server_sent_events()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        await app.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var json = JsonDocument.Parse(await (await http.PostAsJsonAsync("/api/v1/ask", new { question = "Why are Aurelian Motors recalling SUVs?" })).Content.ReadAsStringAsync());
        var sentences = json.RootElement.GetProperty("sentences").EnumerateArray().ToList();
        var sources = json.RootElement.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("number").GetInt32()).ToHashSet();
        sentences.Should().NotBeEmpty();
        sentences.Should().OnlyContain(s => s.GetProperty("citations").EnumerateArray().Any());
        sentences.SelectMany(s => s.GetProperty("citations").EnumerateArray().Select(c => c.GetInt32())).Should().OnlyContain(n => sources.Contains(n));
        json.RootElement.GetProperty("text").GetString().Should().Contain("182,400");

        using var sse = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ask") { Content = new StringContent("""{"question":"Kelvane Sorrel deal price"}""", Encoding.UTF8, "application/json") };
        sse.Headers.Accept.ParseAdd("text/event-stream");
        var stream = await http.SendAsync(sse);
        stream.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        var events = (await stream.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        events.Should().HaveCountGreaterThan(1);
        events[0].Should().StartWith("event: tool\n", "the search that ran comes first");
        events[1..^1].Should().OnlyContain(e => e.StartsWith("event: delta\n", StringComparison.Ordinal));
        events[^1].Should().StartWith("event: done\n");
        using var done = JsonDocument.Parse(events[^1].Split("data: ", 2)[1]);
        done.RootElement.GetProperty("final").GetProperty("sources").GetArrayLength().Should().BeGreaterThan(0);

        (await http.PostAsJsonAsync("/api/v1/ask", new { question = "" })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await http.PostAsync("/api/v1/ask", new StringContent("{not json", Encoding.UTF8, "application/json"))).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await http.PostAsJsonAsync("/api/v1/ask", new { question = "x", asOf = "tomorrow" })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Ask_on_the_command_line_prints_the_answer_and_its_sources()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("ask", "What did the Bank of Japan decide?", "--config", env.ConfigDirectory);

        code.Should().Be(0, stderr);
        stdout.Should().MatchRegex(@"\[\d+\]").And.Contain("Sources (extractive").And.Contain("1.0%").And.Contain("Tool (step 1): news_search(query=");
        var early = await FinNewsProcess.RunAsync("ask", "What did the Bank of Japan decide?", "--as-of", "2020-01-01T00:00:00Z", "--config", env.ConfigDirectory);
        early.Out.Should().StartWith("The stored news does not say.");
    }
}
