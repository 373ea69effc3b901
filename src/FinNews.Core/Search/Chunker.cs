using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FinNews.Core.Feeds;

namespace FinNews.Core.Search;

/// <summary>One indexable piece of an article.</summary>
/// <param name="Id">Deterministic id, <c>{articleId}#{n}</c>, so re-indexing replaces rather than duplicates.</param>
/// <param name="ArticleId">The article it belongs to.</param>
/// <param name="N">Position: 0 is title + summary, 1.. are body windows in order.</param>
/// <param name="Text">The chunk text, whitespace collapsed.</param>
public sealed record ArticleChunk(string Id, string ArticleId, int N, string Text);

/// <summary>
/// Splits articles into chunks: chunk 0 is the title and summary (the densest, most often matched text), then the
/// body in windows of about <see cref="MinWords"/>-<see cref="MaxWords"/> words that end on sentence boundaries.
/// </summary>
public static partial class Chunker
{
    /// <summary>A body window is closed once it reaches this many words.</summary>
    public const int MinWords = 200;

    /// <summary>A window never grows past this many words unless a single sentence is longer (then it is cut).</summary>
    public const int MaxWords = 300;

    // A trailing window shorter than this is folded into the previous one: a 20-word tail is a poor search unit.
    private const int MinTailWords = 50;

    /// <summary>The chunk id for position <paramref name="n"/> of an article.</summary>
    public static string ChunkId(string articleId, int n) => string.Create(CultureInfo.InvariantCulture, $"{articleId}#{n}");

    /// <summary>Chunks an article; the result is a pure function of its id, title, summary and body.</summary>
    public static IReadOnlyList<ArticleChunk> Chunk(Article article)
    {
        ArgumentNullException.ThrowIfNull(article);
        var chunks = new List<ArticleChunk>();
        var head = JoinHead(Collapse(article.Title), Collapse(article.Summary));
        chunks.Add(new ArticleChunk(ChunkId(article.Id, 0), article.Id, 0, head));

        foreach (var window in Windows(article.Body))
        {
            var n = chunks.Count;
            chunks.Add(new ArticleChunk(ChunkId(article.Id, n), article.Id, n, window));
        }

        return chunks;
    }

    /// <summary>Body windows on sentence boundaries.</summary>
    internal static List<string> Windows(string? body)
    {
        var windows = new List<List<string>>();
        if (string.IsNullOrWhiteSpace(body))
        {
            return [];
        }

        var current = new List<string>();
        foreach (var sentence in SentenceBoundary().Split(body.Trim()))
        {
            var words = WhiteSpace().Split(sentence.Trim()).Where(w => w.Length > 0).ToList();
            if (words.Count == 0)
            {
                continue;
            }

            if (current.Count > 0 && current.Count + words.Count > MaxWords)
            {
                windows.Add(current);
                current = [];
            }

            // A "sentence" longer than a window (tables, lists, missing punctuation) is cut at MaxWords.
            while (words.Count > MaxWords)
            {
                windows.Add(words.GetRange(0, MaxWords));
                words.RemoveRange(0, MaxWords);
            }

            current.AddRange(words);
            if (current.Count >= MinWords)
            {
                windows.Add(current);
                current = [];
            }
        }

        if (current.Count > 0)
        {
            if (current.Count < MinTailWords && windows.Count > 0)
            {
                windows[^1].AddRange(current);
            }
            else
            {
                windows.Add(current);
            }
        }

        return windows.ConvertAll(w => string.Join(' ', w));
    }

    private static string JoinHead(string title, string summary)
    {
        if (summary.Length == 0)
        {
            return title;
        }

        if (title.Length == 0)
        {
            return summary;
        }

        var last = title[^1];
        return last is '.' or '!' or '?' or ':' ? $"{title} {summary}" : $"{title}. {summary}";
    }

    // Words (runs of anything but white space, as Regex \s sees it) joined by single spaces, in one pass.
    private static string Collapse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return string.Empty;
        }

        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    // End punctuation (optionally closed by a quote or bracket) followed by whitespace; or a blank line. Abbreviations
    // such as "U.S." split early, which only moves a window edge a few words.
    [GeneratedRegex(@"(?<=[.!?][""'”’)\]]?)\s+|\n\s*\n", RegexOptions.CultureInvariant)]
    private static partial Regex SentenceBoundary();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex WhiteSpace();
}
