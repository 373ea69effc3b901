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
        missing.Code.Should().Be(2, "an id that names no briefing is a bad argument");
        missing.Err.Should().Contain("no-such-briefing");
    }

    [Fact]
    public async Task Exports_link_market_citations_under_the_public_base_url_or_write_them_as_plain_text_and_mark_sample_data()
    {
        RealComponents.EnsureInstalled().Should().BeNull("chromium must be present for the PDF export");
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);
        (await FinNewsProcess.RunAsync("brief", "--config", env.ConfigDirectory)).Code.Should().Be(0);

        async Task<(string Pdf, string Html, string Md)> ExportAllAsync(string name)
        {
            var files = new List<string>();
            foreach (var format in new[] { "pdf", "html", "md" })
            {
                var path = Path.Combine(env.Root, "out", $"{name}.{format}");
                var run = await FinNewsProcess.RunAsync("export", "--format", format, "-o", path, "--config", env.ConfigDirectory);
                run.Code.Should().Be(0, run.Err);
                // PDF link annotations are plain PDF strings: read the bytes as Latin-1 to find them.
                files.Add(System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(path)));
            }

            return (files[0], files[1], files[2]);
        }

        // No public address known: a citation of /market/NVLX is text, never a link into the file system.
        var (pdf, html, md) = await ExportAllAsync("no-base");
        pdf.Should().NotContain("file://").And.NotContain("/URI (/market");
        html.Should().NotContain("href=\"/market").And.Contain("NVLX daily bars to");
        md.Should().NotContain("](</market").And.Contain("NVLX daily bars to");

        env.SetSetting("Web:PublicBaseUrl", "https://news.example.com/finnews/");
        (pdf, html, md) = await ExportAllAsync("with-base");
        pdf.Should().Contain("/URI (https://news.example.com/finnews/market/NVLX)").And.NotContain("file://");
        html.Should().Contain("href=\"https://news.example.com/finnews/market/NVLX\"").And.NotContain("href=\"/");
        md.Should().Contain("(<https://news.example.com/finnews/market/NVLX>)");

        // The bundled day says it is sample data in the Markdown too, and its markets read as a table.
        md.Should().Contain("> **Sample data: this briefing is built from the bundled sample feeds and market data")
            .And.Contain("Meridian Wire (sample):")
            .And.Contain("| Symbol | Name | Close | Day | 5 sessions | Flags | Source |")
            .And.MatchRegex(@"\| NVLX \| Novalux Semiconductor \| 148\.38 \(2026-11-20\) \| \+6\.2% \| [^|]+ \|  \| \[\d+\] \|");
        html.Should().Contain("class=\"sample-banner\"").And.Contain("class=\"sample-badge\"");

        env.SetSetting("Web:PublicBaseUrl", "ftp://news.example.com");
        var bad = await FinNewsProcess.RunAsync("export", "--format", "md", "--config", env.ConfigDirectory);
        bad.Code.Should().Be(3);
        bad.Err.Should().Contain("Web:PublicBaseUrl = 'ftp://news.example.com'");
    }
}
