using System.Net;
using System.Net.Sockets;
using FinNews.Core;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Briefing;

public class WriterSelectionTests
{
    [Fact]
    public async Task With_no_model_configured_the_extractive_writer_writes_and_the_briefing_says_so()
    {
        using var env = TestEnvironment.Create();
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);

        var (briefing, files) = await pipeline.BriefAsync(null, CancellationToken.None);

        briefing.Writer.Should().Be("extractive");
        briefing.Model.Should().BeNull();
        briefing.Notes.Should().Contain(n => n.Contains("no language model is configured", StringComparison.Ordinal));
        File.ReadAllText(files.Single(f => f.EndsWith(".html", StringComparison.Ordinal))).Should().Contain("no language model is configured");
    }

    [Fact]
    public async Task With_a_model_configured_but_unreachable_the_briefing_falls_back_and_says_so()
    {
        using var env = TestEnvironment.Create();
        // A port nothing listens on: connections are refused at once.
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        File.WriteAllText(Path.Combine(env.ConfigDirectory, "models.json"), $$"""
            { "profiles": { "briefing": { "enabled": true, "endpoint": "http://127.0.0.1:{{port}}/v1", "model": "ft:gpt-4o-mini:finnews::test",
              "timeoutSeconds": 5, "maxRetries": 0, "supportsJsonSchema": true } } }
            """);
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);

        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);

        briefing.Writer.Should().Be("extractive", "every section fell back");
        briefing.Notes.Should().Contain(n => n.Contains("extractive", StringComparison.OrdinalIgnoreCase));
        briefing.Sections.SelectMany(s => s.Bullets).Should().NotBeEmpty().And.OnlyContain(b => b.Citations.Count > 0);
        briefing.Run.Should().NotBeNull();
        briefing.Run!.Profile.Should().Be("briefing");
    }
}
