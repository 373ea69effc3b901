using FinNews.Core;
using FinNews.Core.Access;
using FinNews.Core.Delivery;
using FinNews.Core.Market;
using FinNews.Core.Storage.Postgres;
using FinNews.Core.Storage.Sqlite;
using FinNews.Core.Tuning;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Storage;

/// <summary>`finnews migrate --to postgres`: an embedded installation copied into PostgreSQL, resumably, counts verified.</summary>
[RequiresPostgres]
public sealed class PostgresMigrationTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const string TuningJobId = "ftjob-copied";

    // An embedded installation with something in every table: the samples ingested and briefed, bars, a subscriber
    // with a delivery, two keys and (unless left out) a tuning job.
    private static async Task<(TestEnvironment Env, string Key, long SubscriberId, string BriefingId)> InstallationAsync(bool withTuningJob = true)
    {
        var env = TestEnvironment.Create();
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        await host.Services.GetRequiredService<MarketDataLoader>().LoadAllAsync(CancellationToken.None);
        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);
        var delivery = host.Services.GetRequiredService<IDeliveryStore>();
        var ann = delivery.AddSubscriber(new NewSubscriber("ann@example.com", "Europe/Paris", "daily 07:00"));
        delivery.TryClaim(ann.Id, briefing.Id);
        delivery.MarkSent(ann.Id, briefing.Id);
        var keys = host.Services.GetRequiredService<IApiKeyStore>();
        var key = keys.Create("reporting", ApiScopes.Editor).Key;
        keys.Revoke(keys.Create("old", ApiScopes.Reader).Record.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (withTuningJob)
        {
            var at = env.Clock.GetUtcNow();
            host.Services.GetRequiredService<ITuningJobStore>().Add(new TuningJobRecord(TuningJobId, "base", "gpt-4o-mini-2024-07-18", "finnews",
                "data/tuning/dataset", "running", null, null, null, at, at));
        }

        return (env, key, ann.Id, briefing.Id);
    }

    [StorageFact]
    public async Task A_copy_stopped_midway_resumes_and_ends_with_every_row_once_and_usable()
    {
        var (env, key, subscriberId, briefingId) = await InstallationAsync();
        using var _ = env;
        var sqlite = new SqliteStore(env.DatabasePath);
        using var postgres = new PostgresStore(database.ConnectionString, env.Clock);
        postgres.Initialize();
        var migration = new PostgresMigration(sqlite.ConnectionString, postgres);

        // A crash during the articles: stop after the third committed batch of that table.
        using var crash = new CancellationTokenSource();
        var batches = 0;
        var stopped = () => migration.Copy(batchSize: 7, restart: true, progress: (table, done, _) =>
        {
            if (table == "articles" && done > 0 && ++batches == 3)
            {
                crash.Cancel();
            }
        }, cancellationToken: crash.Token);
        stopped.Should().Throw<OperationCanceledException>();
        var partial = migration.Verify();
        partial.Single(c => c.Table == "articles").Target.Should().Be(21, "three batches of 7 were committed");
        partial.Single(c => c.Table == "feeds").Matches.Should().BeTrue();

        var counts = migration.Copy(batchSize: 7);

        counts.Should().OnlyContain(c => c.Matches && c.Source > 0, "every table has rows and the same count on both sides");
        postgres.CountArticles().Should().Be(sqlite.CountArticles());
        postgres.GetArticles(sqlite.ArticleKeysAfter(DateTimeOffset.MinValue, "", 10_000).Select(k => k.Id))
            .Should().BeEquivalentTo(sqlite.GetArticles(sqlite.ArticleKeysAfter(DateTimeOffset.MinValue, "", 10_000).Select(k => k.Id)));
        postgres.LatestBriefing()!.Id.Should().Be(briefingId);
        postgres.ListFeeds().Should().Equal(sqlite.ListFeeds());
        postgres.GetBars("NVLX", DateOnly.MaxValue, 500).Should().BeEquivalentTo(sqlite.GetBars("NVLX", DateOnly.MaxValue, 500));
        var keys = new PostgresApiKeyStore(postgres, env.Clock);
        keys.Authenticate(key)!.Name.Should().Be("reporting", "only the hash was copied, and the key still works");
        keys.List().Should().HaveCount(2).And.ContainSingle(k => k.IsRevoked);
        var delivery = new PostgresDeliveryStore(postgres, env.Clock);
        delivery.TryClaim(subscriberId, briefingId).Should().BeFalse("the copied send log still says the briefing went out");
        delivery.AddSubscriber(new NewSubscriber("bob@example.com", "UTC", "daily 07:00")).Id.Should().Be(subscriberId + 1, "new ids follow the copied ones");
        new PostgresTuningJobStore(postgres).Find(TuningJobId).Should().Be(new SqliteTuningJobStore(sqlite.ConnectionString).Find(TuningJobId))
            .And.NotBeNull("tune status finds a job submitted before the copy");
    }

    [StorageFact]
    public async Task An_installation_that_never_tuned_has_no_tuning_jobs_table_and_copies_it_as_empty()
    {
        var (env, _, _, _) = await InstallationAsync(withTuningJob: false);
        using var _ = env;
        var sqlite = new SqliteStore(env.DatabasePath);
        using var postgres = new PostgresStore(database.ConnectionString, env.Clock);
        postgres.Initialize();

        var counts = new PostgresMigration(sqlite.ConnectionString, postgres).Copy(restart: true);

        counts.Single(c => c.Table == "tuning_jobs").Should().Be(new TableCount("tuning_jobs", 0, 0));
        counts.Should().OnlyContain(c => c.Matches);
        counts.Where(c => c.Table != "tuning_jobs").Should().OnlyContain(c => c.Source > 0);
    }

    [StorageFact]
    public async Task The_migrate_verb_prints_progress_and_a_verification_table_and_a_second_run_copies_nothing_again()
    {
        var (env, _, _, _) = await InstallationAsync();
        using var _ = env;
        var environment = new Dictionary<string, string> { [StorageOptions.PostgresConnectionVariable] = database.ConnectionString };

        var (code, stdout, stderr) = await RunAsync(environment, "migrate", "--to", "postgres", "--batch", "25", "--restart", "--config", env.ConfigDirectory);
        var (again, stdout2, stderr2) = await RunAsync(environment, "migrate", "--to", "postgres", "--config", env.ConfigDirectory);

        code.Should().Be(0, stderr);
        stdout.Should().Contain("articles: 25/").And.Contain("Verified: every table has the same rows in both").And.MatchRegex(@"api_keys\s*│?\s*2\s*│?\s*2");
        stdout.Should().NotContain("Password", "the connection string is never printed");
        again.Should().Be(0, stderr2);
        stdout2.Should().Contain("Verified");
        using var postgres = new PostgresStore(database.ConnectionString, env.Clock);
        postgres.CountArticles().Should().Be(new SqliteStore(env.DatabasePath).CountArticles());
    }

    [StorageFact]
    public async Task Without_the_connection_variable_the_verb_says_which_variable_to_set()
    {
        using var env = TestEnvironment.Create();
        Directory.CreateDirectory(env.DataDirectory);
        File.WriteAllText(env.DatabasePath, "");
        var environment = new Dictionary<string, string> { [StorageOptions.PostgresConnectionVariable] = "" };

        var (code, _, stderr) = await RunAsync(environment, "migrate", "--to", "postgres", "--config", env.ConfigDirectory);
        var (badTarget, _, badStderr) = await RunAsync(environment, "migrate", "--to", "mysql", "--config", env.ConfigDirectory);

        code.Should().Be(3);
        stderr.Should().Contain(StorageOptions.PostgresConnectionVariable).And.NotContain("   at ");
        badTarget.Should().Be(2);
        badStderr.Should().Contain("mysql");
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
