using System.Text;
using System.Text.RegularExpressions;
using System.Text.Unicode;

namespace FinNews.Core.Feeds;

/// <summary>
/// Turns the raw bytes of a feed into text. We decode ourselves (instead of letting XmlReader read the prolog) so that
/// the HTTP header can take precedence and so that feeds whose declaration lies about their bytes still read correctly.
/// </summary>
internal static partial class FeedCharset
{
    // Browsers (WHATWG Encoding) read ISO-8859-1 and US-ASCII labels as windows-1252: the C1 range in such documents
    // is nearly always smart quotes and dashes, never control characters. Loaded on first use: a UTF-8 feed (nearly
    // every feed) never needs the legacy code pages, and loading them is a noticeable part of a one-file `feed parse`.
    private static readonly Lazy<Encoding> LazyWindows1252 = new(() =>
    {
        EnsureCodePages();
        return Encoding.GetEncoding(1252);
    });

    private static Encoding Windows1252 => LazyWindows1252.Value;

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    [GeneratedRegex(@"^\s*<\?xml\s[^>]*?encoding\s*=\s*[""']([A-Za-z0-9._:\-]+)[""']", RegexOptions.CultureInvariant)]
    private static partial Regex PrologEncoding();

    /// <summary>
    /// Decodes <paramref name="bytes"/> by RFC 7303's order: a byte-order mark, then the HTTP header's charset, then the
    /// XML declaration, then UTF-8; UTF-16/32 without a BOM are told by their zero bytes. Labels are checked against the
    /// bytes: a document that is valid UTF-8 is read as UTF-8 whatever it is labelled (the mislabel is common, the
    /// reverse vanishingly rare), and undeclared bytes that are not UTF-8 are read as windows-1252 (Latin-1's superset).
    /// </summary>
    public static string Decode(ReadOnlySpan<byte> bytes, string? headerCharset)
    {
        var used = Choose(bytes, headerCharset, out var skip);
        var text = used.GetString(bytes[skip..]);

        // A BOM that survived (e.g. a UTF-8 BOM on a document we chose to read otherwise) is not content.
        return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
    }

    private static Encoding Choose(ReadOnlySpan<byte> bytes, string? headerCharset, out int skip)
    {
        // 1. A byte-order mark is the strongest evidence there is.
        var bom = FromBom(bytes, out skip);
        if (bom is not null)
        {
            return bom;
        }

        // UTF-16/32 without a BOM still starts with '<' next to zero bytes (XML 1.0 appendix F).
        var wide = FromZeroPattern(bytes);
        if (wide is not null)
        {
            return wide;
        }

        // 2. The HTTP header, 3. the XML prolog. Labels we do not know, and wide encodings that the bytes plainly are
        // not (no zero bytes), are skipped as if absent.
        var declared = new List<Encoding>(2);
        foreach (var label in new[] { headerCharset, PrologLabel(bytes) })
        {
            var encoding = Resolve(label);
            if (encoding is not null and not (UnicodeEncoding or UTF32Encoding))
            {
                declared.Add(encoding);
            }
        }

        var utf8 = Utf8Verdict(bytes);

        // Bytes that hold UTF-8 multi-byte sequences and nothing invalid are UTF-8, whatever the label says: a
        // Latin-1 or windows-1252 text that happens to be valid UTF-8 is vanishingly rare, the mislabel is common.
        if (utf8 == Utf8Evidence.Valid)
        {
            return Utf8NoBom;
        }

        foreach (var encoding in declared)
        {
            if (encoding is UTF8Encoding)
            {
                // Declared UTF-8 but some bytes are not: keep UTF-8 when it mostly is (a few stray bytes become U+FFFD);
                // otherwise the label is wrong and a later label (or windows-1252) is a better guess.
                if (utf8 is Utf8Evidence.Ascii or Utf8Evidence.MostlyValid)
                {
                    return Utf8NoBom;
                }

                continue;
            }

            return IsLatin1OrAscii(encoding) ? Windows1252 : encoding;
        }

        // Nothing usable declared: XML's default is UTF-8; bytes that are not UTF-8 are most likely windows-1252.
        return utf8 is Utf8Evidence.Ascii or Utf8Evidence.MostlyValid ? Utf8NoBom : Windows1252;
    }

    private static Encoding? FromBom(ReadOnlySpan<byte> b, out int skip)
    {
        (Encoding? encoding, skip) = b switch
        {
            [0xEF, 0xBB, 0xBF, ..] => ((Encoding?)Utf8NoBom, 3),
            [0xFF, 0xFE, 0x00, 0x00, ..] => (new UTF32Encoding(bigEndian: false, byteOrderMark: false), 4),
            [0x00, 0x00, 0xFE, 0xFF, ..] => (new UTF32Encoding(bigEndian: true, byteOrderMark: false), 4),
            [0xFF, 0xFE, ..] => (new UnicodeEncoding(bigEndian: false, byteOrderMark: false), 2),
            [0xFE, 0xFF, ..] => (new UnicodeEncoding(bigEndian: true, byteOrderMark: false), 2),
            _ => (null, 0),
        };
        return encoding;
    }

    // Without a BOM, UTF-16 and UTF-32 still show as ASCII characters ('<', or whitespace before it) next to zero bytes
    // (XML 1.0 appendix F); the pattern of zeros in the first four bytes tells the width and byte order.
    private static Encoding? FromZeroPattern(ReadOnlySpan<byte> b) => b switch
    {
        [not 0, 0x00, 0x00, 0x00, ..] => new UTF32Encoding(bigEndian: false, byteOrderMark: false),
        [0x00, 0x00, 0x00, not 0, ..] => new UTF32Encoding(bigEndian: true, byteOrderMark: false),
        [not 0, 0x00, not 0, 0x00, ..] => new UnicodeEncoding(bigEndian: false, byteOrderMark: false),
        [0x00, not 0, 0x00, not 0, ..] => new UnicodeEncoding(bigEndian: true, byteOrderMark: false),
        _ => null,
    };

    private static string? PrologLabel(ReadOnlySpan<byte> bytes)
    {
        // The declaration is ASCII in every ASCII-compatible encoding; 512 bytes is far more than any prolog needs.
        var head = Encoding.ASCII.GetString(bytes[..Math.Min(bytes.Length, 512)]);
        var m = PrologEncoding().Match(head);
        return m.Success ? m.Groups[1].Value : null;
    }

    // windows-1252 and the other legacy code pages ship in the shared framework but are not registered by default;
    // every lookup by label or number goes through here first (registering twice is a no-op).
    private static void EnsureCodePages() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    internal static Encoding? Resolve(string? label)
    {
        if (string.IsNullOrWhiteSpace(label))
        {
            return null;
        }

        label = label.Trim().Trim('"', '\'');
        if (label.Equals("utf8", StringComparison.OrdinalIgnoreCase) || label.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return Utf8NoBom;
        }

        try
        {
            EnsureCodePages();
            var encoding = Encoding.GetEncoding(label);
            return encoding is UTF8Encoding ? Utf8NoBom : encoding;
        }
        catch (ArgumentException)
        {
            // Unknown or unsupported label: treated as no declaration at all.
            return null;
        }
    }

    private static bool IsLatin1OrAscii(Encoding encoding) => encoding.CodePage is 28591 or 20127;

    private enum Utf8Evidence
    {
        Ascii,
        Valid,
        MostlyValid,
        Invalid,
    }

    private static Utf8Evidence Utf8Verdict(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Ascii.IsValid(bytes))
        {
            return Utf8Evidence.Ascii;
        }

        if (Utf8.IsValid(bytes))
        {
            return Utf8Evidence.Valid;
        }

        // Count well-formed multi-byte sequences against invalid bytes: a UTF-8 document with a stray byte or two
        // scores high, a Latin-1 document (accented letters followed by ASCII) scores near zero.
        int good = 0, bad = 0;
        var rest = bytes;
        while (!rest.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(rest, out var rune, out var consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                if (rune.Value >= 0x80)
                {
                    good++;
                }
            }
            else
            {
                bad++;
            }

            rest = rest[Math.Max(consumed, 1)..];
        }

        return good >= 4 * bad ? Utf8Evidence.MostlyValid : Utf8Evidence.Invalid;
    }
}
