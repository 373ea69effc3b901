using System.Diagnostics;
using System.Text.Json;
using FinNews.Core.Models;
using Microsoft.Extensions.AI;

using FinNews.Tests.Support;

namespace FinNews.Tests.Models;

/// <summary>
/// The profile's clients as the kernels use them: OpenAI SDK through Microsoft.Extensions.AI (<c>AsIChatClient</c>,
/// <c>AsIEmbeddingGenerator</c>) with <see cref="ModelRetryPolicy"/> in the SDK pipeline, against a loopback server.
/// </summary>
public class ModelClientTests
{
    /// <summary>Fixed date, real timers: retry waits really happen, the date never moves.</summary>
    private static readonly ManualTimeProvider Clock = new(Some.Day);

    private static readonly ChatMessage[] Hello = [new(ChatRole.System, "You are terse."), new(ChatRole.User, "Say hi.")];

    [Fact]
    public async Task A_completion_returns_text_model_and_token_usage()
    {
        await using var server = await ScriptedOpenAIServer.StartAsync();
        server.ThenChat("Hi.", promptTokens: 123, completionTokens: 4);
        using var client = ModelClients.Chat(server.Profile(), Clock);

        var response = await client.GetResponseAsync(Hello);

        response.Text.Should().Be("Hi.");
        response.ModelId.Should().Be("ft:gpt-4o-mini-2024-07-18:finnews::abc123");
        response.Usage!.InputTokenCount.Should().Be(123);
        response.Usage.OutputTokenCount.Should().Be(4);
        response.Usage.TotalTokenCount.Should().Be(127);
        response.FinishReason.Should().Be(ChatFinishReason.Stop);
        var (path, body) = server.Requests.Single();
        path.Should().Be("/v1/chat/completions");
        using var json = JsonDocument.Parse(body);
        json.RootElement.GetProperty("model").GetString().Should().Be("ft:gpt-4o-mini-2024-07-18:finnews::abc123");
        json.RootElement.GetProperty("messages")[0].GetProperty("role").GetString().Should().Be("system");
    }

    [Fact]
    public async Task A_json_schema_response_format_is_sent()
    {
        await using var server = await ScriptedOpenAIServer.StartAsync();
        server.ThenChat("{}");
        using var client = ModelClients.Chat(server.Profile(), Clock);
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}""");

        await client.GetResponseAsync(Hello, new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement, "section") });

        using var json = JsonDocument.Parse(server.Requests.Single().Body);
        var format = json.RootElement.GetProperty("response_format");
        format.GetProperty("type").GetString().Should().Be("json_schema");
        format.GetProperty("json_schema").GetProperty("name").GetString().Should().Be("section");
    }

    [Fact]
    public async Task Streaming_yields_the_pieces_and_the_final_usage()
    {
        await using var server = await ScriptedOpenAIServer.StartAsync();
        server.ThenStream(["Hel", "lo", " there."], promptTokens: 40, completionTokens: 3);
        using var client = ModelClients.Chat(server.Profile(), Clock);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync(Hello))
        {
            updates.Add(u);
        }

        var response = updates.ToChatResponse();
        response.Text.Should().Be("Hello there.");
        response.Usage!.InputTokenCount.Should().Be(40);
        response.Usage.OutputTokenCount.Should().Be(3);
        using var json = JsonDocument.Parse(server.Requests.Single().Body);
        json.RootElement.GetProperty("stream").GetBoolean().Should().BeTrue();
        json.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task A_429_is_retried_after_the_wait_the_server_asks_for()
    {
        await using var server = await ScriptedOpenAIServer.StartAsync();
        server.ThenStatus(429, retryAfter: "1").ThenChat("ok");
        using var client = ModelClients.Chat(server.Profile(), Clock);

        var clock = Stopwatch.StartNew();
        var response = await client.GetResponseAsync(Hello);

        response.Text.Should().Be("ok");
        server.Requests.Should().HaveCount(2);
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(950), "Retry-After: 1 is honoured, not the 20 ms backoff");
    }

    [Fact]
    public async Task A_retry_after_beyond_the_cap_ends_retrying_with_the_429()
    {
        await using var server = await ScriptedOpenAIServer.StartAsync();
        server.ThenStatus(429, retryAfter: "120").ThenChat("never reached");
        using var client = ModelClients.Chat(server.Profile(), Clock);

        var act = () => client.GetResponseAsync(Hello);

        (await act.Should().ThrowAsync<System.ClientModel.ClientResultException>()).Which.Status.Should().Be(429);
        server.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task A_500_is_retried_and_a_persistent_500_fails_after_max_retries()
    {
        await using var server = await ScriptedOpenAIServer.StartAsync();
        server.ThenStatus(500).ThenChat("recovered");
        using var client = ModelClients.Chat(server.Profile(maxRetries: 2), Clock);
        (await client.GetResponseAsync(Hello)).Text.Should().Be("recovered");

        server.ThenStatus(500).ThenStatus(502).ThenStatus(503);
        var act = () => client.GetResponseAsync(Hello);
        (await act.Should().ThrowAsync<System.ClientModel.ClientResultException>()).Which.Status.Should().Be(503);
        server.Requests.Should().HaveCount(2 + 3, "one attempt plus two retries");
    }

    [Fact]
    public async Task A_stalled_server_times_out_each_attempt()
    {
        await using var server = await ScriptedOpenAIServer.StartAsync();
        server.ThenStall().ThenStall();
        using var client = ModelClients.Chat(server.Profile(maxRetries: 1, timeoutSeconds: 1), Clock);

        var clock = Stopwatch.StartNew();
        var act = () => client.GetResponseAsync(Hello);

        // Two attempts, two timeouts: the pipeline reports both.
        (await act.Should().ThrowAsync<AggregateException>()).Which.InnerExceptions.Should().HaveCount(2)
            .And.OnlyContain(e => e is OperationCanceledException && e.Message.Contains("timeout", StringComparison.Ordinal));
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
        server.Requests.Should().HaveCount(2, "the timed-out attempt is retried once");
    }

    [Fact]
    public void Backoff_doubles_with_jitter_and_is_capped()
    {
        var fixedJitter = new ModelRetryPolicy(5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), Clock, jitter: () => 0);
        fixedJitter.Backoff(0).Should().Be(TimeSpan.FromMilliseconds(500));
        fixedJitter.Backoff(1).Should().Be(TimeSpan.FromSeconds(1));
        fixedJitter.Backoff(2).Should().Be(TimeSpan.FromSeconds(2));
        new ModelRetryPolicy(5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), Clock, jitter: () => 0.999).Backoff(1)
            .Should().BeCloseTo(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(5));
        fixedJitter.Backoff(10).Should().Be(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Embeddings_are_batched_and_returned_in_input_order()
    {
        await using var server = await ScriptedOpenAIServer.StartAsync();
        server.ThenEmbeddings(2, 4).ThenEmbeddings(1, 4);
        var profile = server.Profile() with { Name = "embedding", Model = "text-embedding-3-small", BatchSize = 2, Dimensions = 4 };
        using var generator = ModelClients.Embeddings(profile, Clock);

        var result = await generator.GenerateAsync(["a", "b", "c"]);

        result.Should().HaveCount(3);
        result[0].Vector.ToArray()[0].Should().Be(0f);
        result[1].Vector.ToArray()[0].Should().Be(1f);
        result[2].Vector.ToArray()[0].Should().Be(0f, "the second batch starts its indexes at 0");
        result.Usage!.InputTokenCount.Should().Be(24);
        server.Requests.Should().HaveCount(2);
        using var json = JsonDocument.Parse(server.Requests.First().Body);
        json.RootElement.GetProperty("dimensions").GetInt32().Should().Be(4);
        json.RootElement.GetProperty("input").GetArrayLength().Should().Be(2);
    }

    [Fact]
    public void Profiles_load_disabled_by_default_and_keys_come_only_from_the_environment()
    {
        var profiles = ModelProfiles.Load(Path.Combine(TestPaths.RepoRoot, "config", "models.json"));

        profiles.All.Select(p => p.Name).Should().BeEquivalentTo("briefing", "base", "judge", "embedding");
        profiles.All.Should().OnlyContain(p => !p.Enabled);
        profiles.Configured(ModelProfiles.Briefing, out var reason).Should().BeNull();
        reason.Should().Contain("disabled");
        profiles.Find("briefing")!.Model.Should().Be(profiles.Find("base")!.Model, "the shipped briefing profile runs the base model until a tuned one is promoted (finnews models use)");

        var enabled = ModelProfiles.Parse("""{ "profiles": { "briefing": { "enabled": true, "endpoint": "https://api.openai.com/v1", "model": "m", "apiKeyEnv": "FINNEWS_TEST_KEY" } } }""");
        enabled.Configured("briefing", out reason, _ => null).Should().BeNull();
        reason.Should().Contain("FINNEWS_TEST_KEY");
        enabled.Configured("briefing", out _, _ => "sk-test").Should().NotBeNull();
        enabled.Find("briefing")!.ResolveApiKey(_ => "sk-test").Should().Be("sk-test");

        var withKey = () => ModelProfiles.Parse("""{ "profiles": { "b": { "endpoint": "https://x/v1", "model": "m", "apiKey": "sk-123" } } }""");
        withKey.Should().Throw<InvalidDataException>().WithMessage("*profiles.b.apiKey*");
        var badTimeout = () => ModelProfiles.Parse("""{ "profiles": { "b": { "endpoint": "https://x/v1", "model": "m", "timeoutSeconds": -1 } } }""");
        badTimeout.Should().Throw<InvalidDataException>().WithMessage("*profiles.b.timeoutSeconds*-1*");
    }
}
