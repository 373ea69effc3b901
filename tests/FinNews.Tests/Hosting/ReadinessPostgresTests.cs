using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FinNews.Hosting;
using FinNews.Jobs;
using FinNews.Tests.Support;
using Npgsql;

namespace FinNews.Tests.Hosting;

/// <summary>
/// <c>/ready</c> of a real <c>finnews serve</c> process on PostgreSQL (store and scheduler store): ready while the database
/// answers, 503 naming the failing checks while it refuses connections, ready again when it is back.
/// </summary>
[RequiresPostgres]
public sealed class ReadinessPostgresTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [StorageFact]
    public async Task Ready_is_503_naming_storage_and_the_scheduler_store_while_PostgreSQL_refuses_connections_and_200_once_it_is_back_while_health_stays_200()
    {
        using var env = TestEnvironment.Create();
        env.EditFeeds(_ => []);
        // The scheduler's tables exist (a worker would have migrated them), so only the outage can fail that check.
        await new PostgresSchema(database.ConnectionString, env.Clock).ApplyAsync(CancellationToken.None);
        var url = $"http://127.0.0.1:{FreePort()}";
        using var serve = ServeProcess.Start(env, url, new Dictionary<string, string>
        {
            [StorageOptions.PostgresConnectionVariable] = database.ConnectionString,
            ["FINNEWS_Storage__Provider"] = "postgres",
            ["FINNEWS_Scheduler__Store"] = "postgres",
        });
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        await serve.WaitUntilAnsweringAsync(http);

        var (before, beforeJson) = await ReadyAsync(http);
        before.Should().Be(HttpStatusCode.OK, beforeJson.RootElement.ToString());
        Check(beforeJson, "storage").GetProperty("status").GetString().Should().Be("healthy");
        Check(beforeJson, "storage").GetProperty("data").GetProperty("provider").GetString().Should().Be("postgres");
        Check(beforeJson, "scheduler-store").GetProperty("status").GetString().Should().Be("healthy");

        await SetAcceptingConnectionsAsync(false);
        try
        {
            var (during, duringJson) = await ReadyAsync(http);

            during.Should().Be(HttpStatusCode.ServiceUnavailable, duringJson.RootElement.ToString());
            duringJson.RootElement.GetProperty("status").GetString().Should().Be("unhealthy");
            var storage = Check(duringJson, "storage");
            storage.GetProperty("status").GetString().Should().Be("unhealthy");
            storage.GetProperty("description").GetString().Should().StartWith($"PostgreSQL store at 127.0.0.1:5432/{new NpgsqlConnectionStringBuilder(database.ConnectionString).Database} does not answer")
                .And.NotContain("Password");
            Check(duringJson, "scheduler-store").GetProperty("status").GetString().Should().Be("unhealthy");
            Check(duringJson, "feed-freshness").GetProperty("description").GetString().Should().StartWith("feed freshness unknown");
            Check(duringJson, "search-index").GetProperty("status").GetString().Should().Be("healthy", "the embedded index does not depend on PostgreSQL");

            // Liveness stays 200: restarting the node would not bring the database back.
            using var live = await http.GetAsync("/health");
            var liveText = await live.Content.ReadAsStringAsync();
            live.StatusCode.Should().Be(HttpStatusCode.OK, liveText);
            using var liveJson = JsonDocument.Parse(liveText);
            liveJson.RootElement.GetProperty("status").GetString().Should().Be("ok");
            liveJson.RootElement.GetProperty("storage").GetString().Should().Be("unavailable");
            liveJson.RootElement.GetProperty("articles").ValueKind.Should().Be(JsonValueKind.Null);
        }
        finally
        {
            await SetAcceptingConnectionsAsync(true);
        }

        var (after, afterJson) = await ReadyAsync(http);
        after.Should().Be(HttpStatusCode.OK, afterJson.RootElement.ToString());
        serve.HasExited.Should().BeFalse(serve.Output);
    }

    private static JsonElement Check(JsonDocument json, string name) => json.RootElement.GetProperty("checks").GetProperty(name);

    private static async Task<(HttpStatusCode Status, JsonDocument Json)> ReadyAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/ready");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
    }

    /// <summary>The database stops (or resumes) accepting connections, and its open ones are cut, as in an outage.</summary>
    private async Task SetAcceptingConnectionsAsync(bool accept)
    {
        var name = new NpgsqlConnectionStringBuilder(database.ConnectionString).Database;
        await using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString);
        await c.OpenAsync();
        await using (var alter = new NpgsqlCommand($"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {(accept ? "true" : "false")}", c))
        {
            await alter.ExecuteNonQueryAsync();
        }

        if (!accept)
        {
            await using var cut = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @name", c);
            cut.Parameters.AddWithValue("name", name!);
            await cut.ExecuteScalarAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A <c>finnews serve</c> child process, its console kept for failure messages.</summary>
    private sealed class ServeProcess : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();

        private ServeProcess(Process process) => _process = process;

        public bool HasExited => _process.HasExited;

        public string Output => string.Join('\n', _lines);

        public static ServeProcess Start(TestEnvironment env, string url, IReadOnlyDictionary<string, string> environment)
        {
            var info = FinNewsProcess.StartInfo("serve", "--config", env.ConfigDirectory);
            info.Environment["FINNEWS_Web__Urls"] = url;
            foreach (var (name, value) in environment)
            {
                info.Environment[name] = value;
            }

            var serve = new ServeProcess(new Process { StartInfo = info });
            serve._process.OutputDataReceived += (_, e) => serve.Add(e.Data);
            serve._process.ErrorDataReceived += (_, e) => serve.Add(e.Data);
            serve._process.Start();
            serve._process.BeginOutputReadLine();
            serve._process.BeginErrorReadLine();
            return serve;
        }

        /// <summary>Polls /health until the server answers (a guard against a hung start, not a speed check).</summary>
        public async Task WaitUntilAnsweringAsync(HttpClient http)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                HasExited.Should().BeFalse($"serve exited during start:\n{Output}");
                try
                {
                    using var response = await http.GetAsync("/health");
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }

                watch.Elapsed.Should().BeLessThan(TimeSpan.FromMinutes(2), $"serve did not answer:\n{Output}");
                await Task.Delay(200);
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }

            _process.Dispose();
        }

        private void Add(string? line)
        {
            if (line is not null)
            {
                _lines.Enqueue(line);
            }
        }
    }
}
