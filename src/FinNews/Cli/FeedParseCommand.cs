using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using FinNews.Core.Feeds;

namespace FinNews.Cli;

/// <summary>`finnews feed parse FILE|URL [--json]`: one document in, its normalized form out, or a clear error.</summary>
internal static class FeedParseCommand
{
    public static async Task<int> RunAsync(string source, bool json, CancellationToken cancellationToken)
    {
        ParsedFeed feed;
        try
        {
            feed = await ReadAsync(source, cancellationToken);
        }
        catch (Exception ex) when (ex is FeedParseException or FeedFetchException or IOException or UnauthorizedAccessException or UriFormatException)
        {
            await Console.Error.WriteLineAsync($"feed parse: {source}: {ex.Message}");
            return 1;
        }

        var output = Normalize(feed);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(output, CliJsonContext.Default.NormalizedFeed));
            return 0;
        }

        Console.WriteLine($"{output.Title} ({output.Format}, {output.Items.Count} items)");
        Console.WriteLine(output.Link);
        if (output.Id is not null)
        {
            Console.WriteLine($"id {output.Id}");
        }

        foreach (var item in output.Items)
        {
            Console.WriteLine();
            Console.WriteLine($"- {item.Title}");
            Console.WriteLine($"  {item.Link}");
            Console.WriteLine($"  id {item.Id}; published {item.Published ?? "-"}; updated {item.Updated ?? "-"}{(item.DateIssue is null ? "" : $" (date {item.DateIssue})")}");
            if (item.Authors.Count > 0)
            {
                Console.WriteLine($"  by {string.Join(", ", item.Authors.Select(a => a.Email is null ? a.Display : $"{a.Name} <{a.Email}>".TrimStart()))}");
            }
        }

        return 0;
    }

    private static async Task<ParsedFeed> ReadAsync(string source, CancellationToken cancellationToken)
    {
        var options = new FetchOptions();
        if (source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || source.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            using var http = new HttpClient(FeedFetcher.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };
            var fetcher = new FeedFetcher(http, options, Directory.GetCurrentDirectory());
            var result = await fetcher.FetchAsync(new FeedDefinition("cli", "cli", source), null, null, cancellationToken);
            return FeedParser.Parse(result.Body, result.Charset, result.FinalUri);
        }

        // A file the operator named: any path is allowed, but it is read under the same size cap as a download.
        if (Directory.Exists(source))
        {
            throw new IOException("is a folder, not a feed file");
        }

        if (!File.Exists(source))
        {
            throw new FileNotFoundException("no such file", source);
        }

        var bytes = await FeedFetcher.ReadFileCappedAsync(source, options.MaxBodyBytes, "the file", cancellationToken);
        return FeedParser.Parse(bytes);
    }

    internal static NormalizedFeed Normalize(ParsedFeed feed) => new(
        feed.Format.ToString(),
        feed.Id,
        feed.Title ?? "",
        feed.Link,
        feed.SelfLink,
        HtmlText.ToText(feed.Description),
        feed.Language,
        Iso(feed.Updated),
        feed.Authors,
        feed.Items.Select(i => new NormalizedItem(
            i.Id,
            i.Title ?? "",
            i.Link,
            Iso(i.Published),
            Iso(i.Updated),
            i.DateIssue == DateIssue.None ? null : i.DateIssue.ToString().ToLowerInvariant(),
            i.Authors,
            i.SummaryText,
            i.SafeSummary ?? "",
            i.ContentText,
            i.SafeContent ?? "",
            i.Categories,
            i.Enclosures,
            i.Repaired)).ToList());

    /// <summary>UTC ISO 8601 with a Z, seconds precision, milliseconds only when present.</summary>
    internal static string? Iso(DateTimeOffset? value) => value?.UtcDateTime.ToString(
        value.Value.Millisecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

internal sealed record NormalizedFeed(string Format, string? Id, string Title, string? Link, string? SelfLink, string Description, string? Language,
    string? Updated, IReadOnlyList<FeedAuthor> Authors, IReadOnlyList<NormalizedItem> Items);

/// <summary>One item as `feed parse` prints it: plain title, UTC dates (or why a given date was not used), authors as
/// name and e-mail, summary and content as plain text and as sanitized HTML.</summary>
internal sealed record NormalizedItem(string? Id, string Title, string? Link, string? Published, string? Updated, string? DateIssue,
    IReadOnlyList<FeedAuthor> Authors, string Summary, string SummaryHtml, string Content, string ContentHtml, IReadOnlyList<string> Categories,
    IReadOnlyList<Enclosure> Enclosures, bool Repaired);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(NormalizedFeed))]
[JsonSerializable(typeof(List<FinNewsCli.FeedListing>))]
[JsonSerializable(typeof(List<FinNewsCli.StoryListing>))]
[JsonSerializable(typeof(List<FinNews.Core.Feeds.FeedHealthRow>))]
[JsonSerializable(typeof(List<FinNews.Core.Search.SearchResult>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
