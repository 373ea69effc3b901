using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FinNews.Core;
using FinNews.Hosting;
using FinNews.Tests.Models;
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
    public async Task With_a_model_configured_ask_plans_its_retrieval_with_tools_over_json_sse_and_the_page()
    {
        using var env = TestEnvironment.Create();
        await using var model = await ScriptedOpenAIServer.StartAsync();
        File.WriteAllText(Path.Combine(env.ConfigDirectory, "models.json"), $$"""
            { "profiles": { "briefing": { "enabled": true, "endpoint": "{{model.Endpoint}}", "model": "gpt-4o-mini-2024-07-18", "maxRetries": 0 } } }
            """);
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        await app.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        string Cite(string body)
        {
            var (n, title) = ScriptedOpenAIServer.FirstToolSource(body);
            return $"{title} [{n}].";
        }

        model.ThenToolCalls(("call_1", "news_search", """{"query":"Kelvane Sorrel deal","tickers":"KLVP"}""")).ThenChatFrom(Cite);
        using var json = JsonDocument.Parse(await (await http.PostAsJsonAsync("/api/v1/ask", new { question = "What did Kelvane agree with Sorrel?" })).Content.ReadAsStringAsync());
        json.RootElement.GetProperty("writer").GetString().Should().Be("llm");
        json.RootElement.GetProperty("text").GetString().Should().Contain("Sorrel").And.MatchRegex(@"\[\d+\]\.$");
        var tool = json.RootElement.GetProperty("tools").EnumerateArray().Single();
        tool.GetProperty("tool").GetString().Should().Be("news_search");
        tool.GetProperty("arguments").GetString().Should().Contain("tickers=\"KLVP\"");
        json.RootElement.GetProperty("tokenCount").GetString().Should().Be("o200k_base");
        json.RootElement.GetProperty("promptTokens").GetInt64().Should().BeGreaterThan(0);

        model.ThenStreamToolCall("call_2", "news_search", """{"query":"Kelvane Sorrel deal"}""")
            .ThenStreamFrom(body => [.. Cite(body).Chunk(12).Select(c => new string(c))]);
        using var sse = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ask") { Content = new StringContent("""{"question":"What did Kelvane agree with Sorrel?"}""", Encoding.UTF8, "application/json") };
        sse.Headers.Accept.ParseAdd("text/event-stream");
        var events = (await (await http.SendAsync(sse)).Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        events.Select(e => e.Split('\n')[0]).Distinct().Should().Equal("event: tool", "event: delta", "event: done");
        using var done = JsonDocument.Parse(events[^1].Split("data: ", 2)[1]);
        done.RootElement.GetProperty("final").GetProperty("sentences").GetArrayLength().Should().Be(1);

        model.ThenToolCalls(("call_3", "news_search", """{"query":"Kelvane Sorrel"}""")).ThenChatFrom(Cite);
        var page = await http.GetStringAsync("/ask?q=" + Uri.EscapeDataString("What did Kelvane agree with Sorrel?"));
        page.Should().Contain("Tools that ran").And.Contain("<code>news_search</code>").And.Contain("Written by the llm writer");
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
