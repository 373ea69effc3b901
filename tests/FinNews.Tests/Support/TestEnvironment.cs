using System.Text.Json;
using System.Text.Json.Nodes;
using FinNews.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FinNews.Tests.Support;

/// <summary>
/// A private copy of the repository's config folder (appsettings, watchlist, bundled samples) in a temp directory,
/// with its own data folder. Feeds default to the bundled samples only, so tests never touch the network.
/// </summary>
public sealed class TestEnvironment : IDisposable
{
    private TestEnvironment(string root)
    {
        Root = root;
        ConfigDirectory = Path.Combine(root, "config");
        DataDirectory = Path.Combine(root, "data");
    }

    public string Root { get; }

    public string ConfigDirectory { get; }

    public string DataDirectory { get; }

    public AppPaths Paths => new(ConfigDirectory, Root);

    public string DatabasePath => Path.Combine(DataDirectory, "finnews.db");

    /// <summary>
    /// The morning after the bundled sample day (2026-11-20), when the daily briefing runs: the clock of every host a
    /// test builds from this environment, so results do not depend on the day the tests run.
    /// </summary>
    public static readonly DateTimeOffset MorningAfterSamples = new(2026, 11, 21, 6, 0, 0, TimeSpan.Zero);

    /// <summary>This environment's clock: fixed at <see cref="MorningAfterSamples"/> until a test moves it.</summary>
    public FakeTimeProvider Clock { get; } = new(MorningAfterSamples);

    /// <summary>The repository root (the folder with FinNews.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    public static TestEnvironment Create(bool samplesOnly = true)
    {
        var root = Path.Combine(Path.GetTempPath(), "finnews-tests", Guid.NewGuid().ToString("N")[..12]);
        var env = new TestEnvironment(root);
        CopyDirectory(Path.Combine(RepoRoot, "config"), env.ConfigDirectory);
        if (samplesOnly)
        {
            env.EditFeeds(feeds => feeds.Where(f => f!["sample"]?.GetValue<bool>() == true).ToList());
        }

        return env;
    }

    /// <summary>Rewrites feeds.json through a function over its feed objects.</summary>
    public void EditFeeds(Func<IEnumerable<JsonNode?>, List<JsonNode?>> edit)
    {
        var path = Path.Combine(ConfigDirectory, "feeds.json");
        var doc = JsonNode.Parse(File.ReadAllText(path))!;
        var feeds = edit(doc["feeds"]!.AsArray().Select(n => n?.DeepClone()));
        doc["feeds"] = new JsonArray([.. feeds]);
        File.WriteAllText(path, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Sets a value in appsettings.json by a colon-separated key.</summary>
    public void SetSetting(string key, JsonNode? value)
    {
        var path = Path.Combine(ConfigDirectory, "appsettings.json");
        var doc = JsonNode.Parse(File.ReadAllText(path))!;
        var parts = key.Split(':');
        var node = doc;
        foreach (var part in parts[..^1])
        {
            node = node[part] ??= new JsonObject();
        }

        node[parts[^1]] = value;
        File.WriteAllText(path, doc.ToJsonString());
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A killed child process may still hold a file for a moment; the temp folder is cleaned by the OS.
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var dir in Directory.GetDirectories(from))
        {
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FinNews.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FinNews.sln not found above " + AppContext.BaseDirectory);
    }
}
