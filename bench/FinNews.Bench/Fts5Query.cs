using System.Globalization;
using System.Text;

namespace FinNews.Bench;

/// <summary>
/// The FTS5 query main shipped before Lucene.Net became the lexical engine (src/FinNews.Core/Search/FtsQuery.cs, kept here
/// so <see cref="LexicalBench"/> can measure it): arbitrary user text as an FTS5 MATCH expression that is never a syntax error.
/// </summary>
/// <remarks>
/// Every word becomes a quoted string (so <c>NOT</c>, <c>OR</c>, <c>*</c>, <c>^</c>, column filters and stray quotes
/// are just text), and the strings are OR-ed so BM25 ranks documents that match more of them higher. Words are the
/// same runs of letters and digits the unicode61 tokenizer sees, so nothing in a quoted string needs escaping.
/// </remarks>
internal static class Fts5Query
{
    /// <summary>Longer queries are cut: each term is another posting list to merge.</summary>
    public const int MaxTerms = 32;

    /// <summary>The tokenizer main's FTS5 table was created with (Porter stemming over unicode61 words).</summary>
    public const string Tokenizer = "porter unicode61 remove_diacritics 2";

    /// <summary>The MATCH expression, or <c>null</c> when the text has no searchable word.</summary>
    public static string? Build(string? text) => Build(text, dropStopWords: false);

    /// <summary>
    /// The MATCH expression, optionally without English function words (<see cref="IsStopWord"/>); a query made only
    /// of stop words keeps them, so "to be or not to be" still finds something.
    /// </summary>
    public static string? Build(string? text, bool dropStopWords)
    {
        var terms = Terms(text);
        if (dropStopWords && terms.Any(t => !IsStopWord(t)))
        {
            terms.RemoveAll(IsStopWord);
        }

        if (terms.Count == 0)
        {
            return null;
        }

        var builder = new StringBuilder();
        foreach (var term in terms)
        {
            builder.Append(builder.Length == 0 ? "\"" : " OR \"").Append(term).Append('"');
        }

        return builder.ToString();
    }

    /// <summary>True for a short list of very common English function words (lower case).</summary>
    public static bool IsStopWord(string term) => StopWords.Contains(term);

    // Lucene's classic English stop set (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET): deliberately small, so no content
    // word a financial query could need ("up", "down", "over", "new") is ever dropped.
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
        "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
        "will", "with",
    };

    private static List<string> Terms(string? text)
    {
        var terms = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return terms;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var start = -1;
        for (var i = 0; i <= text.Length && terms.Count < MaxTerms; i++)
        {
            var inWord = i < text.Length && IsWordChar(text[i]);
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                var term = text[start..i].ToLower(CultureInfo.InvariantCulture);
                if (seen.Add(term))
                {
                    terms.Add(term);
                }

                start = -1;
            }
        }

        return terms;
    }

    private static bool IsWordChar(char c)
    {
        if (char.IsLetterOrDigit(c))
        {
            return true;
        }

        // Combining marks and surrogate halves belong to the word they are in (unicode61 treats them as token chars).
        var category = char.GetUnicodeCategory(c);
        return category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.Surrogate;
    }
}
