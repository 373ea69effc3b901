using System.Text.Json;
using FinNews.Tests.Support;

namespace FinNews.Tests.Cli;

public class CliTests
{
    [Fact]
    public async Task Feed_parse_prints_the_normalized_feed_as_json()
    {
        var file = Path.Combine(TestEnvironment.RepoRoot, "config", "samples", "harbor-street-journal.atom.xml");

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("feed", "parse", file, "--json");

        code.Should().Be(0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        doc.RootElement.GetProperty("format").GetString().Should().Be("Atom10");
        var items = doc.RootElement.GetProperty("items");
        items.GetArrayLength().Should().Be(8);
        foreach (var item in items.EnumerateArray())
        {
            item.GetProperty("published").GetString().Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$");
            item.GetProperty("link").GetString().Should().StartWith("https://", "xml:base resolves relative links");
            foreach (var name in new[] { "id", "title", "updated", "authors", "summary", "content", "categories", "enclosures" })
            {
                item.TryGetProperty(name, out _).Should().BeTrue($"items carry '{name}'");
            }
        }
    }

    [Fact]
    public async Task Feed_parse_in_a_fresh_process_reads_undeclared_latin1_as_windows_1252()
    {
        // The legacy code pages are registered on first use, not at start-up: a process whose first and only feed
        // needs them must still find them (ISO-8859-1 bytes, no declaration, not UTF-8).
        var file = Path.Combine(TestPaths.SharedCorpora, "feeds", "with-expected-output", "uolNoticias.rss");

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("feed", "parse", file, "--json");

        code.Should().Be(0, stderr);
        // JSON escapes non-ASCII: ç and õ decoded, no replacement character.
        stdout.Should().Contain(@"simula\u00E7\u00F5es").And.NotContain(@"\uFFFD");
    }

    [Fact]
    public async Task Feed_parse_of_a_malformed_file_names_the_file_and_the_problem()
    {
        var file = Path.Combine(TestEnvironment.RepoRoot, "config", "samples", "broken-wire.malformed.xml");

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("feed", "parse", file, "--json");

        code.Should().Be(1);
        stdout.Should().BeEmpty();
        stderr.Should().Contain(file).And.MatchRegex("[Ll]ine \\d+");
        stderr.Should().NotContain("   at ", "no stack trace");
    }

    [Fact]
    public async Task Feed_parse_of_a_missing_file_says_so()
    {
        var (code, _, stderr) = await FinNewsProcess.RunAsync("feed", "parse", "/nonexistent/feed.xml");
        code.Should().Be(1);
        stderr.Should().Contain("/nonexistent/feed.xml").And.Contain("no such file");
    }

    [Fact]
    public async Task Bad_configuration_is_refused_naming_the_key_and_the_value()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Briefing:LookbackHours", -5);
        env.SetSetting("Web:Urls", "ftp://nope");
        env.SetSetting("Smtp:Security", "tls1.0");

        var (code, _, stderr) = await FinNewsProcess.RunAsync("feeds", "list", "--config", env.ConfigDirectory);

        code.Should().Be(3);
        stderr.Should().Contain("Briefing:LookbackHours = -5").And.Contain("Web:Urls = 'ftp://nope'")
            .And.Contain("Smtp:Security = 'tls1.0': must be one of auto, starttls, ssl, none");
    }

    [Fact]
    public async Task A_non_numeric_setting_is_refused_naming_the_key()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Briefing:TopStories", "lots");

        var (code, _, stderr) = await FinNewsProcess.RunAsync("brief", "--config", env.ConfigDirectory);

        code.Should().Be(3);
        stderr.Should().Contain("Briefing:TopStories").And.Contain("lots");
    }

    [Fact]
    public async Task A_bad_feed_list_is_refused_naming_the_feed_and_the_value()
    {
        using var env = TestEnvironment.Create();
        env.EditFeeds(feeds => [.. feeds, System.Text.Json.Nodes.JsonNode.Parse("""{"id":"Bad Id","name":"x","url":"https://x.example/rss"}""")]);

        var (code, _, stderr) = await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory);

        code.Should().Be(3);
        stderr.Should().Contain("'Bad Id'").And.Contain("feeds.json");
    }

    [Fact]
    public async Task Every_command_has_help()
    {
        foreach (var args in new[] { new[] { "--help" }, ["run", "--help"], ["serve", "--help"], ["worker", "--help"], ["ingest", "--help"],
                     ["brief", "--help"], ["feeds", "list", "--help"], ["feed", "parse", "--help"] })
        {
            var (code, stdout, _) = await FinNewsProcess.RunAsync(args);
            code.Should().Be(0);
            stdout.Should().Contain("Usage:", string.Join(' ', args));
        }
    }

    [Fact]
    public async Task Ingest_then_brief_prints_where_the_briefing_went()
    {
        using var env = TestEnvironment.Create();
        var ingest = await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory);
        ingest.Code.Should().Be(0, ingest.Err);
        ingest.Out.Should().Contain("meridian-wire").And.Contain("new articles");

        var brief = await FinNewsProcess.RunAsync("brief", "--config", env.ConfigDirectory);

        brief.Code.Should().Be(0, brief.Err);
        var files = brief.Out.Split('\n', StringSplitOptions.TrimEntries).Where(l => l.StartsWith(env.DataDirectory, StringComparison.Ordinal)).ToList();
        files.Select(Path.GetExtension).Should().BeEquivalentTo([".md", ".html", ".json"]);
        files.Should().OnlyContain(f => File.Exists(f));
    }

    [Fact]
    public async Task Stories_lists_each_event_once_with_every_outlet_that_carried_it()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("stories", "--since", "2026-11-19T00:00:00Z", "--json", "--config", env.ConfigDirectory);

        code.Should().Be(0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var stories = doc.RootElement.EnumerateArray().ToList();
        // config/samples/README.md: the Kelvane-Sorrel deal was carried by five outlets, the Aurelian recall by four.
        var deal = stories.Where(s => s.GetProperty("headline").GetString()!.Contains("Sorrel", StringComparison.Ordinal)).ToList();
        deal.Should().ContainSingle().Which.GetProperty("outlets").GetArrayLength().Should().Be(5);
        var recall = stories.Single(s => s.GetProperty("headline").GetString()!.Contains("182,400", StringComparison.Ordinal));
        recall.GetProperty("outlets").GetArrayLength().Should().Be(4);
        stories.SelectMany(s => s.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString())).Should().OnlyHaveUniqueItems();

        var bad = await FinNewsProcess.RunAsync("stories", "--since", "yesterday-ish", "--config", env.ConfigDirectory);
        bad.Code.Should().Be(2);
        bad.Err.Should().Contain("yesterday-ish");
    }
}
