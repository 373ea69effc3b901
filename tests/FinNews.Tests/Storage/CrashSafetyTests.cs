using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FinNews.Tests.Support;
using Microsoft.Data.Sqlite;

namespace FinNews.Tests.Storage;

public class CrashSafetyTests
{
    private const int Feeds = 40;
    private const int ItemsPerFeed = 150;

    [Fact]
    public async Task Killing_ingest_midway_loses_nothing_committed_and_a_rerun_completes_without_duplicates()
    {
        using var env = TestEnvironment.Create();
        var dir = Path.Combine(env.ConfigDirectory, "generated");
        Directory.CreateDirectory(dir);
        for (var f = 0; f < Feeds; f++)
        {
            await File.WriteAllTextAsync(Path.Combine(dir, $"feed{f}.xml"), GeneratedFeed(f));
        }

        env.EditFeeds(_ => Enumerable.Range(0, Feeds).Select(f => (JsonNode?)new JsonObject
        {
            ["id"] = $"gen-{f}",
            ["name"] = $"Generated {f}",
            ["url"] = $"generated/feed{f}.xml",
            ["sample"] = true,
        }).ToList());

        using (var process = Process.Start(FinNewsProcess.StartInfo("ingest", "--config", env.ConfigDirectory))!)
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            var watch = Stopwatch.StartNew();
            while (ArticleCount(env) < ItemsPerFeed * 3 && watch.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
                await Task.Delay(20);
            }

            process.HasExited.Should().BeFalse("the kill must land mid-ingest for this test to mean anything");
            process.Kill(entireProcessTree: true); // SIGKILL: no cleanup, no finally blocks.
            await process.WaitForExitAsync();
        }

        // Every feed is either fully stored with its state, or untouched.
        var (articles, fresh) = Snapshot(env);
        articles.Should().BeGreaterThan(0).And.BeLessThan(Feeds * ItemsPerFeed);
        foreach (var f in Enumerable.Range(0, Feeds))
        {
            var stored = articles > 0 ? CountFor(env, $"gen-{f}") : 0;
            if (fresh.Contains($"gen-{f}"))
            {
                stored.Should().Be(ItemsPerFeed, $"feed gen-{f} is marked fresh so all its items must be there");
            }
            else
            {
                stored.Should().Be(0, $"feed gen-{f} is not marked fresh so none of its items may be there");
            }
        }

        var rerun = await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory);
        rerun.Code.Should().Be(0, rerun.Err);
        Snapshot(env).Articles.Should().Be(Feeds * ItemsPerFeed, "the rerun completes the rest and duplicates nothing");
    }

    private static string GeneratedFeed(int f)
    {
        var sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Generated</title><link>https://gen.example/</link>");
        for (var i = 0; i < ItemsPerFeed; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<item><title>Feed {f} item {i}: output rose {i}.{f}% at plant {f * 1000 + i}</title><link>https://gen{f}.example/{i}</link><guid>gen-{f}-{i}</guid><pubDate>Fri, 20 Nov 2026 {i % 24:00}:{i % 60:00}:00 GMT</pubDate><description>Generated body {f}-{i} with enough words to index and embed: the quick brown fox jumps over the lazy dog {i}.</description></item>");
        }

        return sb.Append("</channel></rss>").ToString();
    }

    private static long ArticleCount(TestEnvironment env)
    {
        if (!File.Exists(env.DatabasePath))
        {
            return 0;
        }

        try
        {
            using var c = Open(env);
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT COUNT(*) FROM articles";
            return (long)cmd.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            return 0; // schema not created yet
        }
    }

    private static (long Articles, HashSet<string> Fresh) Snapshot(TestEnvironment env)
    {
        using var c = Open(env);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id FROM feeds WHERE last_success_at IS NOT NULL";
        var fresh = new HashSet<string>();
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                fresh.Add(r.GetString(0));
            }
        }

        cmd.CommandText = "SELECT COUNT(*) FROM articles";
        return ((long)cmd.ExecuteScalar()!, fresh);
    }

    private static long CountFor(TestEnvironment env, string feedId)
    {
        using var c = Open(env);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM articles WHERE feed_id = $f";
        cmd.Parameters.AddWithValue("$f", feedId);
        return (long)cmd.ExecuteScalar()!;
    }

    private static SqliteConnection Open(TestEnvironment env)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = env.DatabasePath, Pooling = false, DefaultTimeout = 30 }.ToString());
        c.Open();
        return c;
    }
}
