namespace FinNews.Core.Briefing;

/// <summary>
/// Sentence boundaries in news text. A sentence ends at '.', '!' or '?' (with any closing quotes or brackets) followed
/// by whitespace and a capital letter or an opening quote, or at a line break; a period does not end a sentence after an
/// initial ("Donald J. Trump"), a dotted abbreviation ("U.S.", "a.m."), a known abbreviation ("Inc.", "No. 2", "Sept.")
/// or inside a number ("4.25").
/// </summary>
public static class Sentences
{
    // Compared case-insensitively, without the period.
    private static readonly HashSet<string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        "mr", "mrs", "ms", "mx", "dr", "prof", "sen", "rep", "gov", "gen", "lt", "col", "capt", "sgt", "cmdr", "adm",
        "pres", "st", "jr", "sr", "rev", "hon", "inc", "corp", "co", "ltd", "plc", "llc", "lp", "bros", "cos", "no", "nos",
        "vs", "v", "etc", "approx", "est", "fig", "dept", "univ", "assn", "ave", "blvd", "mt", "ft", "jan", "feb", "mar",
        "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "tues", "wed", "thu", "thurs", "fri",
        "sat", "sun", "op", "vol", "pp", "cf", "al",
    };

    /// <summary>The sentences of a text, trimmed, in order; empty for blank text.</summary>
    public static IReadOnlyList<string> Split(string? text)
    {
        var result = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return result;
        }

        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var end = EndAt(text, i);
            if (end > 0)
            {
                Add(result, text[start..end]);
                start = end;
                i = end - 1;
            }
        }

        Add(result, text[start..]);
        return result;
    }

    /// <summary>The first sentence of a text (the whole first line when it has no sentence end); empty for blank text.</summary>
    public static string First(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }

        for (var i = 0; i < text.Length; i++)
        {
            var end = EndAt(text, i);
            if (end > 0 && text[..end].Trim().Length > 0)
            {
                return text[..end].Trim();
            }
        }

        return text.Trim();
    }

    private static void Add(List<string> result, string sentence)
    {
        var trimmed = sentence.Trim();
        if (trimmed.Length > 0)
        {
            result.Add(trimmed);
        }
    }

    // The index just after the sentence that ends at position i, or 0 when no sentence ends there.
    private static int EndAt(string text, int i)
    {
        var c = text[i];
        if (c == '\n')
        {
            return i + 1;
        }

        if (c is not ('.' or '!' or '?'))
        {
            return 0;
        }

        var after = i + 1;
        while (after < text.Length && text[after] is '.' or '!' or '?' or '"' or '\'' or '”' or '’' or ')' or ']')
        {
            after++;
        }

        if (after >= text.Length)
        {
            return after;
        }

        if (!char.IsWhiteSpace(text[after]))
        {
            return 0;
        }

        var next = after;
        while (next < text.Length && text[next] is ' ' or '\t' or '\u00A0')
        {
            next++;
        }

        if (next >= text.Length || text[next] is '\n' or '\r')
        {
            return after;
        }

        if (!(char.IsUpper(text[next]) || text[next] is '"' or '“' or '‘' or '\'' or '(' or '['))
        {
            return 0;
        }

        return c == '.' && IsAbbreviation(text, i) ? 0 : after;
    }

    // The word before the period at i: an initial, a dotted abbreviation or a listed one does not end the sentence.
    private static bool IsAbbreviation(string text, int period)
    {
        var start = period;
        while (start > 0 && (char.IsLetter(text[start - 1]) || text[start - 1] == '.'))
        {
            start--;
        }

        var word = text[start..period];
        if (word.Length == 0)
        {
            return false;
        }

        if (word.Length == 1 && char.IsUpper(word[0]))
        {
            return true;
        }

        return word.Contains('.', StringComparison.Ordinal) || Abbreviations.Contains(word);
    }
}
