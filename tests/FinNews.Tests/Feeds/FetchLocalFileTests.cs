using FinNews.Core.Feeds;

namespace FinNews.Tests.Feeds;

/// <summary>Local feed files: only under the config folder, and never more than the body cap, whatever the file.</summary>
public class FetchLocalFileTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_local_feed_path_outside_the_config_folder_is_refused_naming_the_feed_and_the_path(bool absolute)
    {
        using var h = new FetchHarness();
        // A perfectly good feed document, one folder above the config folder.
        var name = $"outside-{Guid.NewGuid():N}.xml";
        var outside = Path.GetFullPath(Path.Combine(h.Root, "..", name));
        await File.WriteAllTextAsync(outside, FetchFeeds.Rss("outside"));
        try
        {
            var url = absolute ? outside : $"samples/../../{name}";

            var result = (await h.IngestAsync(new FeedDefinition("escape", "Escape", url))).Single();

            result.Error.Should().Be(
                $"Feed 'escape': file '{url}' resolves to '{outside}', outside the config folder '{h.Root}'; a local feed must be a file under the config folder.");
            h.Store.ArticlesInWindow(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, DateTimeOffset.MaxValue).Should().BeEmpty();
        }
        finally
        {
            File.Delete(outside);
        }
    }

    [Fact]
    public async Task A_local_feed_inside_the_config_folder_is_read()
    {
        using var h = new FetchHarness();
        Directory.CreateDirectory(Path.Combine(h.Root, "samples"));
        await File.WriteAllTextAsync(Path.Combine(h.Root, "samples", "wire.xml"), FetchFeeds.Rss("local"));

        var result = (await h.IngestAsync(new FeedDefinition("local", "Local", "samples/./wire.xml"))).Single();

        result.Error.Should().BeNull();
        result.Counts!.Inserted.Should().Be(2);
    }

    [Fact]
    public async Task A_local_feed_file_that_never_ends_is_stopped_at_the_body_cap()
    {
        // /dev/zero reports a length of 0 and never ends: only a cap enforced while reading stops it.
        using var h = new FetchHarness(fetch: o => o.MaxBodyBytes = 64 * 1024);
        File.CreateSymbolicLink(Path.Combine(h.Root, "endless.xml"), "/dev/zero");

        var result = (await h.IngestAsync(new FeedDefinition("endless", "Endless", "endless.xml"))).Single();

        result.Error.Should().Be(
            $"Feed 'endless': file '{Path.Combine(h.Root, "endless.xml")}' reports no length but gives more than 65536 bytes (a device or special file?); reading stopped at the 65536-byte limit.");
    }

    [Fact]
    public async Task A_folder_named_as_a_local_feed_is_a_clear_error()
    {
        using var h = new FetchHarness();
        Directory.CreateDirectory(Path.Combine(h.Root, "samples"));

        var result = (await h.IngestAsync(new FeedDefinition("folder", "Folder", "samples"))).Single();

        result.Error.Should().Be($"Feed 'folder': '{Path.Combine(h.Root, "samples")}' is a folder, not a feed file.");
    }
}
