using System.Globalization;
using System.Text.Json;
using static FinNews.Core.Feeds.FeedXml;

namespace FinNews.Core.Feeds;

/// <summary>
/// Maps JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) documents. Bounded like the XML path: nesting depth,
/// the number of items and values, and the length of any one string.
/// </summary>
/// <remarks>
/// Written on System.Text.Json rather than taken from CodeHollow.FeedReader: mapping its JsonFeed objects onto
/// <see cref="ParsedItem"/> is as much code as reading the few members directly, and this way the limits apply.
/// </remarks>
internal static class JsonFeedReader
{
    private const int MaxDepth = 32;

    /// <summary>Reads a JSON Feed document.</summary>
    /// <exception cref="FeedParseException">Not JSON, not a JSON Feed, or over a limit.</exception>
    public static ParsedFeed Read(string text, Uri? documentUri)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            // Where, not what: the exception's message can quote the document.
            var where = ex.LineNumber is { } line ? $" at Line {line + 1}, position {(ex.BytePositionInLine ?? 0) + 1}" : "";
            throw new FeedParseException($"The document looks like JSON but is not valid JSON{where}.", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            var version = root.ValueKind == JsonValueKind.Object ? Str(root, "version") : null;
            var isJsonFeed = version is not null && version.Contains("jsonfeed.org/version/", StringComparison.OrdinalIgnoreCase);
            if (!isJsonFeed && !(root.ValueKind == JsonValueKind.Object && root.TryGetProperty("items", out var probe) && probe.ValueKind == JsonValueKind.Array))
            {
                throw new FeedParseException("The document is JSON but not a JSON Feed (no jsonfeed.org version and no items).");
            }

            var format = version is not null && version.EndsWith("/1", StringComparison.Ordinal) ? FeedFormat.JsonFeed10 : FeedFormat.JsonFeed11;
            var feedUrl = Url(Str(root, "feed_url"), documentUri);
            var home = Url(Str(root, "home_page_url"), documentUri);
            var itemBase = Uri.TryCreate(home ?? feedUrl, UriKind.Absolute, out var b) ? b : documentUri;
            var feedAuthors = Authors(root);

            var items = new List<ParsedItem>();
            if (root.TryGetProperty("items", out var array) && array.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in array.EnumerateArray())
                {
                    if (items.Count >= FeedParser.MaxElements)
                    {
                        throw new FeedParseException($"The document has more than {FeedParser.MaxElements} items; refused as hostile.");
                    }

                    if (item.ValueKind == JsonValueKind.Object)
                    {
                        items.Add(ReadItem(item, itemBase, feedAuthors));
                    }
                }
            }

            var title = Str(root, "title");
            return new ParsedFeed(
                format,
                Title: title is null ? null : NullIfBlank(HtmlText.TitleText(title)),
                Link: home,
                Description: Str(root, "description") is { } d ? HtmlEscape(d) : null,
                Language: Str(root, "language"),
                Updated: null,
                Items: items)
            {
                Id = feedUrl,
                SelfLink = feedUrl,
                Authors = feedAuthors,
            };
        }
    }

    private static ParsedItem ReadItem(JsonElement item, Uri? baseUri, List<FeedAuthor> feedAuthors)
    {
        // JSON Feed ids are strings, but 1.0 feeds often wrote numbers.
        var id = item.TryGetProperty("id", out var idValue) && idValue.ValueKind == JsonValueKind.Number
            ? idValue.GetRawText()
            : Str(item, "id");

        var categories = new List<string>();
        if (item.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array)
        {
            foreach (var tag in tags.EnumerateArray())
            {
                AddDistinct(categories, tag.ValueKind == JsonValueKind.String ? Checked(tag.GetString()) : null);
            }
        }

        var enclosures = new List<Enclosure>();
        if (item.TryGetProperty("attachments", out var attachments) && attachments.ValueKind == JsonValueKind.Array)
        {
            foreach (var attachment in attachments.EnumerateArray())
            {
                if (attachment.ValueKind == JsonValueKind.Object && Url(Str(attachment, "url"), baseUri) is { } url)
                {
                    long? size = attachment.TryGetProperty("size_in_bytes", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var n) && n >= 0 ? n : null;
                    AddEnclosure(enclosures, new Enclosure(url, Str(attachment, "mime_type"), size));
                }
            }
        }

        var authors = Authors(item);
        if (authors.Count == 0)
        {
            authors = [.. feedAuthors];
        }

        var published = FeedDates.Read(Str(item, "date_published"));
        var modified = FeedDates.Read(Str(item, "date_modified"));
        var title = Str(item, "title");
        var html = Str(item, "content_html");
        var text = Str(item, "content_text");
        return new ParsedItem(
            Id: id,
            Title: title is null ? null : NullIfBlank(HtmlText.TitleText(title)),
            Link: Url(Str(item, "url"), baseUri) ?? Url(Str(item, "external_url"), baseUri),
            Published: published.Value,
            Updated: modified.Value,
            Authors: authors,
            Summary: Str(item, "summary") is { } summary ? HtmlEscape(summary) : null,
            Content: html ?? (text is null ? null : HtmlEscape(text)),
            Categories: categories,
            Enclosures: enclosures)
        {
            DateIssue = published.Value is null && modified.Value is null ? Worst(published, modified) : DateIssue.None,
            BaseUri = baseUri,
        };
    }

    // JSON Feed 1.1 "authors" (an array), 1.0 "author" (one object); name and url, no e-mail (a mailto: url gives one).
    private static List<FeedAuthor> Authors(JsonElement parent)
    {
        var list = new List<FeedAuthor>();
        var people = new List<JsonElement>();
        if (parent.TryGetProperty("authors", out var many) && many.ValueKind == JsonValueKind.Array)
        {
            people.AddRange(many.EnumerateArray());
        }

        if (parent.TryGetProperty("author", out var one) && one.ValueKind == JsonValueKind.Object)
        {
            people.Add(one);
        }

        foreach (var person in people.Where(p => p.ValueKind == JsonValueKind.Object))
        {
            var name = PlainText(Str(person, "name"));
            var url = Str(person, "url");
            var email = url is not null && url.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? url[7..] : null;
            if (name is not null || url is not null)
            {
                AddAuthor(list, new FeedAuthor(name, email, email is null ? url : null));
            }
        }

        return list;
    }

    private static string? Str(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? NullIfBlank(Checked(value.GetString()))
            : null;

    private static string? Checked(string? value) => value is { Length: > FeedParser.MaxFieldChars }
        ? throw new FeedParseException(string.Create(CultureInfo.InvariantCulture, $"A text field in the document is longer than {FeedParser.MaxFieldChars} characters; refused as hostile."))
        : value;

    private static string? Url(string? value, Uri? baseUri)
    {
        if (value is null || IsAbsolute(value))
        {
            return value;
        }

        return baseUri is not null && Uri.TryCreate(baseUri, value, out var resolved) ? resolved.AbsoluteUri : value;
    }
}
