using FinNews.Core.Briefing;
using FinNews.Core.Storage.Postgres;
using FinNews.Core.Storage.Sqlite;
using FinNews.Core.Tuning;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Data.Sqlite;

namespace FinNews.Tests.Tuning;

/// <summary>`finnews tune dataset` with Storage:Provider = postgres: the dataset comes from the store interfaces, whatever the backend.</summary>
[RequiresPostgres]
public sealed class TuningDatasetPostgresTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [StorageFact]
    public async Task Tune_dataset_on_postgresql_writes_the_same_examples_as_on_sqlite_from_the_same_approvals()
    {
        using var env = TestEnvironment.Create();
        await SampleApprovals.CreateAsync(env);
        var sqliteFolder = Path.Combine(env.Root, "dataset-sqlite");
        var onSqlite = await FinNewsProcess.RunAsync("tune", "dataset", "--out", sqliteFolder, "--config", env.ConfigDirectory);
        onSqlite.Code.Should().Be(0, onSqlite.Out + onSqlite.Err);

        // The same installation copied into PostgreSQL: the builder gives the same examples over either store.
        using (var postgres = new PostgresStore(database.ConnectionString, env.Clock))
        {
            postgres.Initialize();
            var sqlite = new SqliteStore(env.DatabasePath);
            new PostgresMigration(sqlite.ConnectionString, postgres).Copy(restart: true).Should().OnlyContain(c => c.Matches);
            var expected = new TuningDataset(sqlite, sqlite, sqlite, new CitationValidator()).Build(new TuningDatasetOptions());
            var actual = new TuningDataset(postgres, postgres, postgres, new CitationValidator()).Build(new TuningDatasetOptions());
            expected.Briefings.Should().Be(SampleApprovals.AsOf.Length);
            actual.Should().BeEquivalentTo(expected, o => o.ComparingRecordsByMembers().WithStrictOrdering());
        }

        // Then the embedded file goes: only PostgreSQL can answer the command now.
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(env.DataDirectory, "finnews.db*"))
        {
            File.Delete(file);
        }

        var postgresFolder = Path.Combine(env.Root, "dataset-postgres");
        var onPostgres = await FinNewsProcess.RunWithAsync(new Dictionary<string, string>
        {
            [StorageOptions.PostgresConnectionVariable] = database.ConnectionString,
            ["FINNEWS_Storage__Provider"] = "postgres",
        }, "tune", "dataset", "--out", postgresFolder, "--config", env.ConfigDirectory);

        onPostgres.Code.Should().Be(0, onPostgres.Out + onPostgres.Err);
        onPostgres.Out.Should().Contain($"Dataset from {SampleApprovals.AsOf.Length} approved briefing(s)")
            .And.Contain("pass OpenAI's chat fine-tuning format and limits");
        File.Exists(env.DatabasePath).Should().BeFalse("the embedded store was not opened");
        foreach (var name in new[] { "train.jsonl", "validation.jsonl" })
        {
            File.ReadAllText(Path.Combine(postgresFolder, name)).Should().Be(File.ReadAllText(Path.Combine(sqliteFolder, name)), name);
        }
    }

    [StorageFact]
    public void Tuning_jobs_are_recorded_and_updated_on_postgresql_as_on_sqlite()
    {
        using var env = TestEnvironment.Create();
        using var postgres = new PostgresStore(database.ConnectionString, env.Clock);
        postgres.Initialize();
        Directory.CreateDirectory(env.DataDirectory);
        var sqlite = new SqliteStore(env.DatabasePath);
        sqlite.Initialize();
        var at = env.Clock.GetUtcNow();
        foreach (ITuningJobStore store in new ITuningJobStore[] { new SqliteTuningJobStore(sqlite.ConnectionString), new PostgresTuningJobStore(postgres) })
        {
            var id = "ftjob-" + store.GetType().Name.ToLowerInvariant();
            store.Add(new TuningJobRecord(id, "base", "gpt-4o-mini-2024-07-18", "finnews", "data/tuning/dataset", "queued", null, null, null, at, at));
            store.Add(new TuningJobRecord(id, "other", "other-model", null, null, "queued", null, null, null, at, at));
            store.Update(new TuningJobInfo(id, "gpt-4o-mini-2024-07-18", "succeeded", "ft:gpt-4o-mini:finnews", null, 1000, at, at.AddHours(1), null, null, "finnews"),
                "base", at.AddHours(1), candidate: "candidate");
            store.Update(new TuningJobInfo(id, "gpt-4o-mini-2024-07-18", "succeeded", "ft:gpt-4o-mini:finnews", null, 1000, at, at.AddHours(1), null, null, "finnews"),
                "base", at.AddHours(2));

            store.Find(id).Should().Be(new TuningJobRecord(id, "base", "gpt-4o-mini-2024-07-18", "finnews", "data/tuning/dataset", "succeeded",
                "ft:gpt-4o-mini:finnews", null, "candidate", at, at.AddHours(2)), store.GetType().Name);
            store.Find("ftjob-unknown").Should().BeNull();
        }
    }
}
