using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinNews.Core.Feeds;

/// <summary>A configured feed (config/feeds.json).</summary>
/// <param name="Id">Stable identifier, lower-case letters, digits and dashes.</param>
/// <param name="Name">Outlet name shown to readers.</param>
/// <param name="Url">http(s) URL, or a path relative to the config folder for bundled files.</param>
/// <param name="IntervalMinutes">Poll interval.</param>
/// <param name="Sample">True for the bundled sample feeds (fictional news).</param>
/// <param name="Internal">True when the feed may live on a private or loopback address (skips the SSRF guard).</param>
/// <param name="Enabled">False to keep the definition without polling it.</param>
/// <param name="FullText">Fetch each new item's web page and keep its article text (for feeds that carry only teasers).</param>
public sealed record FeedDefinition(
    string Id,
    string Name,
    string Url,
    int IntervalMinutes = 30,
    bool Sample = false,
    bool Internal = false,
    bool Enabled = true,
    bool FullText = false)
{
    /// <summary>True when <see cref="Url"/> names a local file rather than an http(s) resource.</summary>
    [JsonIgnore]
    public bool IsLocalFile => !Url.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        && !Url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The feed list file.</summary>
public sealed record FeedList(IReadOnlyList<FeedDefinition> Feeds)
{
    /// <summary>Reads and validates a feed list; errors name the file, the feed and the bad value.</summary>
    public static FeedList Load(string path)
    {
        var list = ConfigFile.Read(path, "Feed list", ConfigJsonContext.Default.FeedList);
        if (list?.Feeds is null)
        {
            throw new InvalidDataException($"Feed list '{path}' has no \"feeds\" array.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Feeds.Count; i++)
        {
            var f = list.Feeds[i];
            var where = $"Feed list '{path}', feeds[{i}]";
            if (f is null)
            {
                throw new InvalidDataException($"{where}: must be a feed object, not null.");
            }

            if (Problem(f) is { } problem)
            {
                throw new InvalidDataException(problem.AboutId ? $"{where}: {problem.Text}" : $"{where} ('{f.Id}'): {problem.Text}");
            }

            if (!seen.Add(f.Id))
            {
                throw new InvalidDataException($"{where}: id '{f.Id}' appears more than once.");
            }
        }

        return list;
    }

    /// <summary>
    /// Checks one definition the way the feed list file is checked (id format, name, url, interval); throws with a
    /// message naming the feed and the bad value. Used for feeds added from the command line or the API.
    /// </summary>
    public static void Validate(FeedDefinition feed)
    {
        ArgumentNullException.ThrowIfNull(feed);
        if (Problem(feed) is { } problem)
        {
            throw new InvalidDataException(problem.AboutId ? $"Feed {problem.Text}" : $"Feed '{feed.Id}': {problem.Text}");
        }
    }

    private static (bool AboutId, string Text)? Problem(FeedDefinition f)
    {
        if (string.IsNullOrWhiteSpace(f.Id) || !f.Id.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch == '-'))
        {
            return (true, $"id '{f.Id}' must be lower-case letters, digits and dashes.");
        }

        if (string.IsNullOrWhiteSpace(f.Name))
        {
            return (false, "name is required.");
        }

        if (string.IsNullOrWhiteSpace(f.Url))
        {
            return (false, "url is required.");
        }

        if (!f.IsLocalFile && !Uri.TryCreate(f.Url, UriKind.Absolute, out _))
        {
            return (false, $"url '{f.Url}' is not a valid absolute URL.");
        }

        if (f.IntervalMinutes is < 1 or > 10080)
        {
            return (false, $"intervalMinutes {f.IntervalMinutes} must be between 1 and 10080.");
        }

        return null;
    }
}

/// <summary>A watched company: its ticker and the names it goes by in the news.</summary>
/// <param name="Symbol">Ticker symbol, upper case.</param>
/// <param name="Name">Company name.</param>
/// <param name="Exchange">Listing exchange (NASDAQ, NYSE...).</param>
/// <param name="Aliases">Other names (short names, brands).</param>
/// <param name="Ambiguous">The symbol is also a common word: match it only as a cashtag, in exchange form or by name.</param>
public sealed record WatchlistEntry(string Symbol, string Name, string? Exchange = null, IReadOnlyList<string>? Aliases = null, bool Ambiguous = false);

/// <summary>The watchlist file (config/watchlist.json).</summary>
public sealed record Watchlist(IReadOnlyList<WatchlistEntry> Tickers)
{
    public static Watchlist Load(string path)
    {
        var list = ConfigFile.Read(path, "Watchlist", ConfigJsonContext.Default.Watchlist);
        if (list?.Tickers is null)
        {
            throw new InvalidDataException($"Watchlist '{path}' has no \"tickers\" array.");
        }

        for (var i = 0; i < list.Tickers.Count; i++)
        {
            var t = list.Tickers[i];
            if (string.IsNullOrWhiteSpace(t.Symbol) || !t.Symbol.All(ch => char.IsAsciiLetterUpper(ch) || char.IsAsciiDigit(ch) || ch is '.' or '-'))
            {
                throw new InvalidDataException($"Watchlist '{path}', tickers[{i}]: symbol '{t.Symbol}' must be upper-case letters, digits, '.' or '-'.");
            }

            if (string.IsNullOrWhiteSpace(t.Name))
            {
                throw new InvalidDataException($"Watchlist '{path}', tickers[{i}] ('{t.Symbol}'): name is required.");
            }
        }

        return list;
    }
}

/// <summary>Reads a JSON configuration file; errors name the file and what is wrong with it.</summary>
internal static class ConfigFile
{
    public static T? Read<T>(string path, string what, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{what} '{path}' does not exist.");
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), type);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{what} '{path}' is not valid JSON: {ex.Message}", ex);
        }
    }
}

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(FeedList))]
[JsonSerializable(typeof(Watchlist))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;
