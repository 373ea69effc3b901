using FinNews.Core.Storage.Postgres;
using FinNews.Hosting;
using FinNews.Tests.Support;

namespace FinNews.Tests.Storage;

/// <summary>The whole application with Storage:Provider = postgres, through the real executable.</summary>
[RequiresPostgres]
public sealed class PostgresHostTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [StorageFact]
    public async Task With_the_postgres_provider_ingest_brief_and_stories_run_on_postgresql_and_leave_no_sqlite_store()
    {
        using var env = TestEnvironment.Create();
        var environment = new Dictionary<string, string>
        {
            [StorageOptions.PostgresConnectionVariable] = database.ConnectionString,
            ["FINNEWS_Storage__Provider"] = "postgres",
        };

        var ingest = await RunAsync(environment, "ingest", "--config", env.ConfigDirectory);
        var again = await RunAsync(environment, "ingest", "--config", env.ConfigDirectory);
        var brief = await RunAsync(environment, "brief", "--config", env.ConfigDirectory);
        var stories = await RunAsync(environment, "stories", "--config", env.ConfigDirectory);

        ingest.Out.Should().Contain("stored in postgres 127.0.0.1").And.NotContain("Password");
        again.Out.Should().Contain("0 new articles", "a second ingest stores nothing twice");
        brief.Code.Should().Be(0, brief.Err);
        stories.Code.Should().Be(0, stories.Err);
        stories.Out.Should().Contain("Kelvane to buy Sorrel Biosciences");
        using var store = new PostgresStore(database.ConnectionString, env.Clock);
        store.CountArticles().Should().BeGreaterThan(40);
        store.UnindexedArticles(10).Should().BeEmpty("everything ingested was indexed (into data/search.db)");
        store.LatestBriefing().Should().NotBeNull();
        store.ListFeeds().Should().NotBeEmpty();
        File.Exists(env.DatabasePath).Should().BeFalse("the embedded store is not used");
        File.Exists(Path.Combine(env.DataDirectory, "search.db")).Should().BeTrue();
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = FinNewsProcess.StartInfo(args);
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
