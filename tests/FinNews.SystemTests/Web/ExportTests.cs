using FinNews.SystemTests.Support;
using FinNews.Tests.Support;

namespace FinNews.SystemTests.Web;

public class ExportTests
{
    [Fact]
    public async Task Export_writes_a_pdf_through_headless_chromium_and_markdown_and_html()
    {
        RealComponents.EnsureInstalled().Should().BeNull("chromium must be present for the PDF export");
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);
        (await FinNewsProcess.RunAsync("brief", "--config", env.ConfigDirectory)).Code.Should().Be(0);
        var pdf = Path.Combine(env.Root, "out", "briefing.pdf");

        var result = await FinNewsProcess.RunAsync("export", "--format", "pdf", "--output", pdf, "--config", env.ConfigDirectory);
        var md = await FinNewsProcess.RunAsync("export", "--format", "md", "--config", env.ConfigDirectory);
        var missing = await FinNewsProcess.RunAsync("export", "--id", "no-such-briefing", "--config", env.ConfigDirectory);

        result.Code.Should().Be(0, result.Err);
        result.Out.Trim().Should().Be(pdf);
        var bytes = await File.ReadAllBytesAsync(pdf);
        System.Text.Encoding.ASCII.GetString(bytes, 0, 5).Should().Be("%PDF-");
        bytes.Length.Should().BeGreaterThan(10_000);
        md.Code.Should().Be(0, md.Err);
        (await File.ReadAllTextAsync(md.Out.Trim())).Should().StartWith("# Financial briefing").And.Contain("## Sources");
        missing.Code.Should().Be(1);
        missing.Err.Should().Contain("no-such-briefing");
    }
}
