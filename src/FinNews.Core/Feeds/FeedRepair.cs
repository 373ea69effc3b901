using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace FinNews.Core.Feeds;

/// <summary>
/// Lenient repair of the two faults that make most real-world feeds ill-formed: HTML named entities XML does not
/// define (<c>&amp;nbsp;</c>, <c>&amp;mdash;</c>) and bare ampersands (<c>AT&amp;T</c>). Used only after a strict parse
/// has failed, so a well-formed document is never altered.
/// </summary>
internal static partial class FeedRepair
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

    // A character that starts a UTF-8 multi-byte sequence when read as windows-1252 (Â…ô), then one or more that
    // continue one (bytes 0x80-0xBF as windows-1252 shows them, C1 controls included for Latin-1 readings).
    [GeneratedRegex("[\u00C2-\u00F4][\u0080-\u00BF\u0152\u0153\u0160\u0161\u0178\u017D\u017E\u0192\u02C6\u02DC\u2013\u2014\u2018\u2019\u201A\u201C\u201D\u201E\u2020\u2021\u2022\u2026\u2030\u2039\u203A\u20AC\u2122]+", RegexOptions.CultureInvariant)]
    private static partial Regex MojibakeRun();

    // The stray "Â" left where a UTF-8 no-break space (C2 A0) was read as Latin-1 and the A0 later became a plain space:
    // before a space and not after a capital (an all-capitals word may end in a real Â).
    [GeneratedRegex("(?<!\\p{Lu})\u00C2(?= )", RegexOptions.CultureInvariant)]
    private static partial Regex StrayCircumflexA();

    // windows-1252's characters for bytes 0x80-0x9F (0 where the byte is undefined).
    private static readonly char[] Cp1252High =
    [
        '\u20AC', '\0', '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021', '\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', '\0', '\u017D', '\0',
        '\0', '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014', '\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', '\0', '\u017E', '\u0178',
    ];

    /// <summary>
    /// Undoes mojibake: UTF-8 text that was decoded as windows-1252 or Latin-1 ("KÃ¶ln" → "Köln", "â€™" → "’"), once
    /// or twice over, and the stray "Â" such a decoding leaves before a space. Only runs that form valid UTF-8 when read
    /// back as bytes are changed, so genuine Latin-1 text stays as it is. Returns the text unchanged (same instance) when
    /// there is nothing to repair.
    /// </summary>
    public static string FixMojibake(string text)
    {
        // Cheap exit for the common case: no character that can start a mis-decoded sequence.
        if (text.AsSpan().IndexOfAnyInRange('\u00C2', '\u00F4') < 0)
        {
            return text;
        }

        var current = text;
        for (var pass = 0; pass < 3; pass++)
        {
            var next = MojibakeRun().Replace(current, m => Redecode(m.Value));
            if (ReferenceEquals(next, current) || next == current)
            {
                break;
            }

            current = next;
        }

        current = StrayCircumflexA().Replace(current, "");
        return current == text ? text : current;
    }

    // Reads a matched run back as the bytes it came from and decodes every valid UTF-8 sequence in it; characters
    // that do not form one are kept as they were.
    private static string Redecode(string run)
    {
        var bytes = new byte[run.Length];
        for (var i = 0; i < run.Length; i++)
        {
            var c = run[i];
            var index = c < 0x100 ? -1 : Array.IndexOf(Cp1252High, c);
            bytes[i] = c < 0x100 ? (byte)c : (byte)(0x80 + index);
        }

        var sb = new StringBuilder(run.Length);
        var at = 0;
        while (at < bytes.Length)
        {
            var status = Rune.DecodeFromUtf8(bytes.AsSpan(at), out var rune, out var consumed);
            if (status == System.Buffers.OperationStatus.Done && consumed > 1)
            {
                sb.Append(rune.ToString());
                at += consumed;
            }
            else
            {
                sb.Append(run[at]);
                at++;
            }
        }

        return sb.ToString();
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
