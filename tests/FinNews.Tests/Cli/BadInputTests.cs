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
}
