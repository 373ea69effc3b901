using System.Text.RegularExpressions;
using FinNews.Core.Feeds;

namespace FinNews.Core.Briefing;

/// <summary>The content terms of a question, the names in it (capitalised words after the first), and the watchlist
/// tickers it names.</summary>
/// <param name="Terms">Content terms as compared (first five letters).</param>
/// <param name="Words">The same terms as the question writes them, for notes.</param>
public sealed record QuestionTerms(IReadOnlyList<string> Terms, IReadOnlyList<string> Names, IReadOnlyList<string> Tickers,
    IReadOnlyList<string>? Words = null);

/// <summary>
/// Decides whether a source can answer a question, by a rule that can be measured: the question's content terms
/// (words less stop words and question words, compared by their first five letters so "recalling" meets "recalls")
/// must be covered by the source; when the question names watchlist companies (by symbol, cashtag, name or alias) the
/// source must be about one of them; when it has names (capitalised words after the first: Kelvane, Japan) the source
/// must contain one of them and cover at least <see cref="MinCoverageWithNames"/> of the terms, otherwise at least
/// <see cref="MinCoverage"/>. A source failing the rule is not used; when none passes, the answer abstains instead of
/// reporting unrelated news.
/// </summary>
/// <remarks>
/// Measured on the bundled samples (tests/FinNews.Tests/Briefing/RelevanceTests.cs): "What is the price of bitcoin?"
/// has no name and no source with "bitcoin", so nothing reaches 0.6 and it abstains; "What happened to NVLX?" keeps only
/// articles tagged NVLX. Known limit: a named company plus an attribute the news never mentions ("Novalux dividend")
/// reaches 0.5 on the company alone; the model, when configured, is told to say the news does not say.
/// </remarks>
public sealed partial class Relevance(TickerTagger? tagger = null)
{
    /// <summary>Share of the question's content terms a source must contain when the question has no names.</summary>
    public const double MinCoverage = 0.6;

    /// <summary>Share of the question's content terms a source must contain when it also contains a name of the question.</summary>
    public const double MinCoverageWithNames = 0.5;

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "by", "with", "from", "about", "as", "into",
        "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "has", "have", "had", "it", "its", "this",
        "that", "these", "those", "there", "their", "they", "them", "what", "which", "who", "whom", "whose", "when", "where",
        "why", "how", "much", "many", "any", "some", "each", "every", "all", "me", "my", "we", "our", "you", "your", "i",
        "can", "could", "would", "should", "will", "shall", "may", "might", "tell", "say", "said", "says", "happen",
        "happened", "happening", "news", "latest", "today", "yesterday", "now", "react", "reacted", "reaction", "outlet",
        "outlets", "report", "reported", "reports", "after", "before", "than", "then", "so", "not", "no", "yes", "if",
        "also", "just", "more", "most", "over", "up", "down", "out", "get", "got", "give", "go", "going", "know",
    };

    /// <summary>The content terms and named tickers of a question.</summary>
    public QuestionTerms Terms(string question)
    {
        ArgumentNullException.ThrowIfNull(question);
        var tickers = tagger?.Tag(question) ?? [];
        var words = Words(question).Where(w => !StopWords.Contains(w)).Distinct(StringComparer.Ordinal).ToList();
        var terms = words.Select(Stem).Distinct(StringComparer.Ordinal).ToList();
        var names = WordPattern().Matches(question).Skip(1).Select(m => m.Value.Trim('\'', '.'))
            .Where(w => w.Length > 1 && char.IsUpper(w[0]) && !StopWords.Contains(w.ToLowerInvariant()))
            .Select(w => Stem(w.ToLowerInvariant())).Distinct(StringComparer.Ordinal).ToList();
        return new QuestionTerms(terms, names, tickers, words);
    }

    /// <summary>Share of the question's terms found in the text (a ticker the source is tagged with counts as found).</summary>
    public static double Coverage(QuestionTerms question, string text, IReadOnlyCollection<string> sourceTickers)
    {
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceTickers);
        if (question.Terms.Count == 0)
        {
            return 1;
        }

        var words = Words(text).Select(Stem).ToHashSet(StringComparer.Ordinal);
        foreach (var t in sourceTickers)
        {
            words.Add(Stem(t.ToLowerInvariant()));
        }

        return question.Terms.Count(words.Contains) / (double)question.Terms.Count;
    }

    /// <summary>True when the source may answer the question (see the class remarks for the rule).</summary>
    public static bool IsRelevant(QuestionTerms question, string text, IReadOnlyCollection<string> sourceTickers)
    {
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(sourceTickers);
        if (question.Tickers.Count > 0 && !question.Tickers.Any(t => sourceTickers.Contains(t, StringComparer.Ordinal)))
        {
            return false;
        }

        if (question.Names.Count == 0)
        {
            return Coverage(question, text, sourceTickers) >= MinCoverage;
        }

        var named = new QuestionTerms(question.Names, [], []);
        return Coverage(named, text, sourceTickers) > 0 && Coverage(question, text, sourceTickers) >= MinCoverageWithNames;
    }

    private static IEnumerable<string> Words(string text) =>
        WordPattern().Matches(text.ToLowerInvariant()).Select(m => m.Value.Trim('\'', '.')).Where(w => w.Length > 1 || char.IsAsciiDigit(w[0]));

    private static string Stem(string word) => word.Length <= 5 ? word.TrimEnd('s') is { Length: >= 2 } trimmed ? trimmed : word : word[..5];

    [GeneratedRegex(@"[\p{L}\p{N}][\p{L}\p{N}'.]*")]
    private static partial Regex WordPattern();
}
