using FinNews.Tests.Support;

namespace FinNews.Tests.Cli;

/// <summary>Hostile or mistyped command lines end in one clear line and the README's exit code, never a stack trace.</summary>
public class BadInputTests
{
    [Fact]
    public async Task A_numeric_search_mode_is_refused_as_a_bad_argument()
    {
        using var env = TestEnvironment.Create();

        var (code, _, stderr) = await FinNewsProcess.RunAsync("search", "bank", "--mode", "5", "--config", env.ConfigDirectory);

        code.Should().Be(2, stderr);
        stderr.Should().Contain("--mode '5'").And.NotContain("   at ");
    }

    [Theory]
    [InlineData("America")]
    [InlineData("../../../../etc/passwd")]
    [InlineData("America/")]
    public async Task A_time_zone_that_is_a_folder_or_a_path_is_refused_naming_the_value(string zone)
    {
        using var env = TestEnvironment.Create();

        var (code, _, stderr) = await FinNewsProcess.RunAsync("subscribers", "add", "analyst@example.com", "--timezone", zone, "--config", env.ConfigDirectory);

        code.Should().Be(2, stderr);
        stderr.Should().Contain($"'{zone}'").And.NotContain("   at ");
        var (_, list, _) = await FinNewsProcess.RunAsync("subscribers", "list", "--config", env.ConfigDirectory);
        list.Should().NotContain("analyst@example.com", "nothing is stored from a refused command");
    }

    [Fact]
    public async Task Export_to_a_folder_says_to_name_a_file()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("brief", "--config", env.ConfigDirectory)).Code.Should().Be(0);
        var folder = Path.Combine(env.Root, "out");
        Directory.CreateDirectory(folder);

        var (code, _, stderr) = await FinNewsProcess.RunAsync("export", "--format", "md", "-o", folder, "--config", env.ConfigDirectory);

        code.Should().Be(2, stderr);
        stderr.Should().Contain(folder).And.Contain("is a folder").And.NotContain("   at ");
        Directory.GetFileSystemEntries(folder).Should().BeEmpty();
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("search", "bank", "--limit", "abc")]
    [InlineData("search")]
    public async Task Arguments_that_do_not_parse_exit_with_code_2(params string[] args)
    {
        var (code, _, stderr) = await FinNewsProcess.RunAsync(args);

        code.Should().Be(2, stderr);
        stderr.Should().NotContain("   at ").And.Contain("--help");
    }

    [Fact]
    public async Task An_empty_question_is_a_bad_argument()
    {
        using var env = TestEnvironment.Create();

        var (code, _, stderr) = await FinNewsProcess.RunAsync("ask", "", "--config", env.ConfigDirectory);

        code.Should().Be(2, stderr);
        stderr.Should().Contain("question").And.NotContain("   at ");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("101")]
    public async Task A_search_limit_outside_1_to_100_is_refused_not_clamped(string limit)
    {
        using var env = TestEnvironment.Create();

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("search", "bank", "--limit", limit, "--config", env.ConfigDirectory);

        code.Should().Be(2, stderr);
        stderr.Should().Contain($"--limit {limit} must be between 1 and 100");
        stdout.Should().BeEmpty();
    }

    [Theory]
    [InlineData("--section", "topp", "no such section")]
    [InlineData("--ticker", "ZZZZ", "not on the watchlist")]
    public async Task A_digest_filter_that_can_never_match_is_refused(string option, string value, string reason)
    {
        using var env = TestEnvironment.Create();

        var (code, _, stderr) = await FinNewsProcess.RunAsync("subscribers", "add", "analyst@example.com", option, value, "--config", env.ConfigDirectory);

        code.Should().Be(2, stderr);
        stderr.Should().Contain($"'{value}'").And.Contain(reason);
    }

    [Fact]
    public async Task Under_dotnet_run_relative_paths_resolve_against_the_folder_the_command_was_typed_in()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("brief", "--config", env.ConfigDirectory)).Code.Should().Be(0);
        var here = Path.Combine(env.Root, "analyst");
        Directory.CreateDirectory(here);
        File.Copy(Path.Combine(env.ConfigDirectory, "samples", "harbor-street-journal.atom.xml"), Path.Combine(here, "feed.xml"));
        var project = Path.Combine(TestEnvironment.RepoRoot, "src", "FinNews");

        var parse = await DotnetRunAsync(here, "--project", project, "--no-build", "--", "feed", "parse", "feed.xml");
        var export = await DotnetRunAsync(here, "--project", project, "--no-build", "--", "export", "--format", "md", "-o", "briefing.md", "--config", env.ConfigDirectory);

        parse.Code.Should().Be(0, parse.Err);
        parse.Out.Should().Contain("Harbor Street Journal");
        export.Code.Should().Be(0, export.Err);
        File.Exists(Path.Combine(here, "briefing.md")).Should().BeTrue("-o briefing.md means the folder the user is in");
        File.Exists(Path.Combine(project, "briefing.md")).Should().BeFalse("nothing lands in the project folder");
    }

    private static async Task<(int Code, string Out, string Err)> DotnetRunAsync(string workingDirectory, params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add("run");
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
