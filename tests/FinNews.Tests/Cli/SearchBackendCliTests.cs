using System.Diagnostics;
using FinNews.Tests.Search.Elasticsearch;
using FinNews.Tests.Support;

namespace FinNews.Tests.Cli;

/// <summary>`finnews search --explain` and `finnews reindex --to` through the real executable.</summary>
public sealed class SearchBackendCliTests
{
    private const string Password = "cli-s3cret-pw";

    private static async Task<(int Code, string Out, string Err)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = FinNewsProcess.StartInfo(args);
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Search_explain_names_the_embedded_path_and_the_fusion_weights()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("search", "brake recall SUVs", "--explain", "--config", env.ConfigDirectory);

        code.Should().Be(0, stderr);
        stdout.Should().Contain("backend: sqlite (embedded)")
            .And.Contain("fused in process")
            .And.Contain("fusion:  convex mix of min-max normalized scores (lexical 0.85, vector 0.15); vector-only hits need cosine ≥ 0.25");
    }

    [Fact]
    public async Task An_elasticsearch_password_in_a_config_file_is_refused_naming_the_key_and_the_variable_to_use()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Search:Backend", "elasticsearch");
        env.SetSetting("Elasticsearch:Password", Password);

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("search", "anything", "--config", env.ConfigDirectory);

        code.Should().Be(3);
        stderr.Should().Contain("Elasticsearch:Password").And.Contain("FINNEWS_ELASTICSEARCH_PASSWORD");
        (stdout + stderr).Should().NotContain(Password, "a secret is never echoed");
    }

    [Fact]
    public async Task Reindex_to_elasticsearch_moves_the_installation_and_search_then_runs_there_fused_client_side_on_basic()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);
        var cluster = new FakeCluster { Licence = "basic" };
        await using var server = await EsLoopbackServer.StartAsync(cluster.Respond);
        var es = new Dictionary<string, string>
        {
            ["FINNEWS_ELASTICSEARCH_URL"] = server.Url,
            ["FINNEWS_ELASTICSEARCH_USERNAME"] = "elastic",
            ["FINNEWS_ELASTICSEARCH_PASSWORD"] = Password,
        };

        var copy = await RunAsync(es, "reindex", "--to", "elasticsearch", "--config", env.ConfigDirectory);
        var again = await RunAsync(es, "reindex", "--to", "elasticsearch", "--config", env.ConfigDirectory);
        var search = await RunAsync(new Dictionary<string, string>(es) { ["FINNEWS_Search__Backend"] = "elasticsearch" },
            "search", "brake recall SUVs", "--explain", "--config", env.ConfigDirectory);

        copy.Code.Should().Be(0, copy.Err + copy.Out);
        copy.Out.Should().Contain("Copied").And.Contain("Verified:").And.Contain("FINNEWS_Search__Backend=elasticsearch");
        cluster.Documents.Should().NotBeEmpty();
        File.Exists(Path.Combine(env.DataDirectory, "reindex-elasticsearch.checkpoint.json")).Should().BeTrue();
        again.Code.Should().Be(0, again.Err);
        again.Out.Should().Contain("Resumed; copied 0 articles");
        search.Code.Should().Be(0, search.Err);
        search.Out.Should().Contain("backend: Elasticsearch 9.1.0, licence basic").And.Contain("path:    _msearch").And.Contain("182,400");
        server.Requests.Should().OnlyContain(r => r.Authorization!.StartsWith("Basic ", StringComparison.Ordinal));
        server.Requests.Should().NotContain(r => r.BodyText.Contains("\"rrf\"", StringComparison.Ordinal));
        foreach (var output in new[] { copy.Out, copy.Err, again.Out, again.Err, search.Out, search.Err })
        {
            output.Should().NotContain(Password);
        }
    }
}
