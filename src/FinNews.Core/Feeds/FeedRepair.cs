using System.Globalization;
using System.Net;
using System.Text;

namespace FinNews.Core.Feeds;

/// <summary>
/// Lenient repair of the two faults that make most real-world feeds ill-formed: HTML named entities XML does not
/// define (<c>&amp;nbsp;</c>, <c>&amp;mdash;</c>) and bare ampersands (<c>AT&amp;T</c>). Used only after a strict parse
/// has failed, so a well-formed document is never altered.
/// </summary>
internal static class FeedRepair
{
    /// <summary>A repair would make the document longer than the limit given.</summary>
    public sealed class TooLongException : Exception
    {
        public TooLongException(string message) : base(message) { }
        public TooLongException(string message, Exception inner) : base(message, inner) { }
        public TooLongException() { }
    }

    /// <summary>
    /// Returns the repaired text. CDATA sections, comments and processing instructions are copied untouched: an
    /// ampersand inside CDATA is already literal, and rewriting it would change the value.
    /// </summary>
    /// <param name="xml">The document.</param>
    /// <param name="maxChars">Longest result allowed: a document of bare ampersands would otherwise grow fivefold.</param>
    /// <exception cref="TooLongException">The repaired text would be longer than <paramref name="maxChars"/>.</exception>
    public static string Repair(string xml, int maxChars = int.MaxValue)
    {
        var sb = new StringBuilder(Math.Min(xml.Length + 256, maxChars));
        var i = 0;
        while (i < xml.Length)
        {
            if (sb.Length > maxChars)
            {
                throw new TooLongException($"The repaired document would be longer than {maxChars} characters.");
            }

            var c = xml[i];
            if (c == '<')
            {
                var end = VerbatimEnd(xml, i);
                if (end > i)
                {
                    sb.Append(xml, i, end - i);
                    i = end;
                    continue;
                }

                sb.Append(c);
                i++;
            }
            else if (c == '&')
            {
                i = RepairReference(xml, i, sb);
            }
            else if (!IsXmlChar(c, xml, i))
            {
                // Control characters (form feeds, vertical tabs, NUL) that XML 1.0 forbids: dropped, they carry no text.
                i++;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }

        if (sb.Length > maxChars)
        {
            throw new TooLongException($"The repaired document would be longer than {maxChars} characters.");
        }

        return sb.ToString();
    }

    // End index (exclusive) of a section that must be copied verbatim, or start when none begins here.
    private static int VerbatimEnd(string xml, int start)
    {
        foreach (var (open, close) in Verbatim)
        {
            if (string.CompareOrdinal(xml, start, open, 0, open.Length) == 0)
            {
                var end = xml.IndexOf(close, start + open.Length, StringComparison.Ordinal);

                // Unterminated: copy the rest as is and let the second parse report it.
                return end < 0 ? xml.Length : end + close.Length;
            }
        }

        return start;
    }

    private static readonly (string Open, string Close)[] Verbatim =
    [
        ("<![CDATA[", "]]>"),
        ("<!--", "-->"),
        ("<?", "?>"),
    ];

    private static int RepairReference(string xml, int amp, StringBuilder sb)
    {
        // Find a candidate reference "&name;" or "&#...;" of sane length.
        var semi = -1;
        for (var j = amp + 1; j < xml.Length && j - amp <= 40; j++)
        {
            var ch = xml[j];
            if (ch == ';')
            {
                semi = j;
                break;
            }

            if (!(char.IsAsciiLetterOrDigit(ch) || ch == '#'))
            {
                break;
            }
        }

        if (semi < 0 || semi == amp + 1)
        {
            sb.Append("&amp;");
            return amp + 1;
        }

        var name = xml.AsSpan(amp + 1, semi - amp - 1);
        if (name[0] == '#')
        {
            if (IsValidCharacterReference(name[1..]))
            {
                sb.Append(xml, amp, semi - amp + 1);
            }
            else
            {
                // "&#;", "&#xZZ;", or a reference to a character XML forbids: keep it visible as text.
                sb.Append("&amp;");
                sb.Append(name).Append(';');
            }

            return semi + 1;
        }

        if (name is "amp" or "lt" or "gt" or "quot" or "apos")
        {
            sb.Append(xml, amp, semi - amp + 1);
            return semi + 1;
        }

        // WebUtility.HtmlDecode knows the full HTML5 named-entity table; an unchanged result means an unknown name.
        var entity = xml.Substring(amp, semi - amp + 1);
        var decoded = WebUtility.HtmlDecode(entity);
        if (decoded == entity)
        {
            sb.Append("&amp;");
            return amp + 1;
        }

        // Numeric references survive any later re-encoding of the document and keep the value exactly.
        foreach (var rune in decoded.EnumerateRunes())
        {
            sb.Append("&#").Append(rune.Value.ToString(CultureInfo.InvariantCulture)).Append(';');
        }

        return semi + 1;
    }

    private static bool IsValidCharacterReference(ReadOnlySpan<char> digits)
    {
        int value;
        if (digits.Length > 1 && digits[0] is 'x' or 'X')
        {
            if (!int.TryParse(digits[1..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value))
            {
                return false;
            }
        }
        else if (digits.Length == 0 || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            return false;
        }

        return value is 0x9 or 0xA or 0xD or (>= 0x20 and <= 0xD7FF) or (>= 0xE000 and <= 0xFFFD) or (>= 0x10000 and <= 0x10FFFF);
    }

    private static bool IsXmlChar(char c, string xml, int i)
    {
        if (c is '\t' or '\n' or '\r' || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD))
        {
            return true;
        }

        // Surrogates are fine in well-formed pairs only.
        if (char.IsHighSurrogate(c))
        {
            return i + 1 < xml.Length && char.IsLowSurrogate(xml[i + 1]);
        }

        return char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(xml[i - 1]);
    }
}
