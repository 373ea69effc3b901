using System.Diagnostics;
using FinNews.Tests.Search.Evaluation;
using FinNews.Tests.Support;

namespace FinNews.Tests.Cli;

/// <summary>What the command line prints, piped into another program or shown in a terminal.</summary>
public class TerminalOutputTests
{
    [Fact]
    public async Task Piped_tables_carry_no_colour_codes_and_do_not_wrap_at_80_columns()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0, "the malformed sample feed fails, the others succeed");

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("feeds", "status", "--config", env.ConfigDirectory);

        code.Should().Be(0, stderr);
        stdout.Should().NotContain("\u001b[", "piped output is plain text");
        var broken = stdout.Split('\n').Single(l => l.Contains("broken-wire", StringComparison.Ordinal));
        broken.Should().Contain("not well-formed XML at Line", "a long cell stays on its row instead of wrapping at 80 columns");
        broken.Length.Should().BeGreaterThan(80);
    }

    [Fact]
    public async Task In_a_terminal_ingest_names_each_failed_feed_once_and_no_log_line_tears_the_progress_bar()
    {
        using var env = TestEnvironment.Create();

        // script(1) gives the command a real pseudo-terminal, as an operator's shell would.
        var (code, output) = await InTerminalAsync($"dotnet exec {FinNewsProcess.Dll} ingest --config {env.ConfigDirectory}");

        code.Should().Be(0, output);
        CountOf(output, "The feed is not well-formed XML").Should().Be(1, output);
        output.Should().NotContain("WRN]", "warnings are in the result table and the log file, not between progress frames");
    }

    [Fact]
    public async Task Eval_reports_progress_on_stderr_while_it_indexes_and_scores()
    {
        using var beir = BeirFolder.Markets();
        using var env = TestEnvironment.Create();

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("eval", "retrieval", "--dataset", beir.Path, "--config", env.ConfigDirectory);

        code.Should().Be(0, stderr);
        stderr.Should().Contain("[hashing] indexed 5/5").And.Contain("[hashing] Hybrid: nDCG@10");
        stdout.Should().Contain("nDCG@10").And.NotContain("[hashing] indexed");
    }

    [Fact]
    public async Task Stories_fall_back_to_the_latest_stored_day_as_the_briefing_does()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("stories", "--config", env.ConfigDirectory);

        code.Should().Be(0, stderr);
        stderr.Should().Contain("Nothing was published in the last 24h; showing the latest 24h of stored news");
        stdout.Should().Contain("Kelvane", "the samples' multi-outlet deal story is listed");
        stdout.Should().NotStartWith("0 stories");
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static async Task<(int Code, string Output)> InTerminalAsync(string command)
    {
        var info = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-q", "-e", "-c", command, "/dev/null" })
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["TERM"] = "xterm-256color";
        info.Environment["COLUMNS"] = "100";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
