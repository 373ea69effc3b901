using FinNews.Core.Feeds;
using FinNews.Tests.Support;

namespace FinNews.Tests.Cli;

/// <summary>`finnews feed parse FILE`: any file the operator names, but read under the download cap, with clear errors.</summary>
public class FeedParseLimitsTests
{
    private static readonly long Cap = new FetchOptions().MaxBodyBytes;

    [Fact]
    public async Task A_device_that_never_ends_stops_at_the_size_cap_with_a_clear_error()
    {
        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("feed", "parse", "/dev/zero");

        code.Should().Be(1, stderr);
        stdout.Should().BeEmpty();
        stderr.Trim().Should().Be(
            $"feed parse: /dev/zero: the file reports no length but gives more than {Cap} bytes (a device or special file?); reading stopped at the {Cap}-byte limit.");
    }

    [Fact]
    public async Task A_folder_is_refused_as_not_a_feed_file()
    {
        var folder = Path.Combine(TestEnvironment.RepoRoot, "config", "samples");

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("feed", "parse", folder);

        code.Should().Be(1, stderr);
        stdout.Should().BeEmpty();
        stderr.Trim().Should().Be($"feed parse: {folder}: is a folder, not a feed file");
    }

    [Fact]
    public async Task A_document_larger_than_the_cap_is_refused_before_it_is_read()
    {
        // One text node bigger than the cap: the same document over HTTP would be refused by the body cap.
        var file = Path.Combine(Path.GetTempPath(), $"finnews-huge-{Guid.NewGuid():N}.xml");
        await using (var writer = new StreamWriter(file))
        {
            await writer.WriteAsync("<rss version=\"2.0\"><channel><title>t</title><item><title>x</title><description>");
            var block = new string('a', 1 << 20);
            for (var written = 0L; written <= Cap; written += block.Length)
            {
                await writer.WriteAsync(block);
            }

            await writer.WriteAsync("</description></item></channel></rss>");
        }

        try
        {
            var (code, stdout, stderr) = await FinNewsProcess.RunAsync("feed", "parse", file);

            code.Should().Be(1, stderr);
            stdout.Should().BeEmpty();
            stderr.Trim().Should().Be($"feed parse: {file}: the file is {new FileInfo(file).Length} bytes, over the {Cap}-byte limit.");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_document_under_the_cap_with_one_enormous_field_is_a_clear_error()
    {
        var file = Path.Combine(Path.GetTempPath(), $"finnews-field-{Guid.NewGuid():N}.xml");
        await File.WriteAllTextAsync(file,
            $"<rss version=\"2.0\"><channel><title>t</title><item><title>x</title><description>{new string('a', 3 * FeedParser.MaxFieldChars)}</description></item></channel></rss>");
        try
        {
            var (code, stdout, stderr) = await FinNewsProcess.RunAsync("feed", "parse", file);

            code.Should().Be(1, stderr);
            stdout.Should().BeEmpty();
            stderr.Should().StartWith($"feed parse: {file}: A text field in the document is longer than {FeedParser.MaxFieldChars} characters (Line 1, position ")
                .And.NotContain("   at ", "no stack trace");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
