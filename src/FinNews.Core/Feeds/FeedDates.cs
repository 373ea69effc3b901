using System.Globalization;
using System.Text.RegularExpressions;

namespace FinNews.Core.Feeds;

/// <summary>A date as read from a feed: the instant in UTC, or why there is none.</summary>
/// <param name="Value">The instant (offset zero), or null.</param>
/// <param name="Issue">None when read or absent; otherwise why the text given could not be used.</param>
public readonly record struct FeedDate(DateTimeOffset? Value, DateIssue Issue);

/// <summary>
/// Parses the date formats found in feeds into UTC: RFC 822/1123/2822 (two-digit years, named, military and numeric
/// zones, missing seconds, comma or time, month before day), W3C-DTF and the ISO 8601 variants (basic format, ordinal
/// days, two-digit years, MSSQL's space-separated form), asctime, Perforce, and the Greek, Hungarian and Korean forms.
/// Never throws and never guesses: a text in no known format is <see cref="DateIssue.Unreadable"/> (numeric dates such
/// as 03/04/2025 are ambiguous and so unreadable), a known format naming no real instant (30 February) is
/// <see cref="DateIssue.Impossible"/>.
/// </summary>
public static partial class FeedDates
{
    /// <summary>Reads <paramref name="s"/> as a feed date and returns it in UTC (offset zero), or null.</summary>
    public static DateTimeOffset? Parse(string? s) => Read(s).Value;

    /// <summary>Reads <paramref name="s"/> as a feed date: the instant in UTC, or the reason there is none.</summary>
    public static FeedDate Read(string? s)
    {
        if (string.IsNullOrWhiteSpace(s))
        {
            return default;
        }

        // Publishers pad dates with newlines and tabs, and some append a zone comment such as "(UTC)".
        var text = s.Trim();
        if (text.Length > 100)
        {
            return new FeedDate(null, DateIssue.Unreadable);
        }

        text = ExtraWhitespace().Replace(text, " ");
        if (text.Contains('(', StringComparison.Ordinal))
        {
            text = ParenComment().Replace(text, string.Empty).Trim();
        }

        if (text.Length == 0)
        {
            return new FeedDate(null, DateIssue.Unreadable);
        }

        // Forms that start with a digit (ISO 8601, the Korean and Hungarian ones, RFC 822 without a day name) are tried
        // apart from those that start with a name (RFC 822, month first, asctime, Perforce): fewer patterns per date.
        var parts = char.IsAsciiDigit(text[0]) || text[0] == '-'
            ? TryIso(text) ?? TryKorean(text) ?? TryHungarian(text) ?? TryRfc822(text) ?? TryPerforce(text)
            : TryRfc822(text) ?? TryAsctime(text) ?? TryPerforce(text);
        if (parts is null)
        {
            return new FeedDate(null, DateIssue.Unreadable);
        }

        var value = parts.Value.ToUtc();
        return value is null ? new FeedDate(null, DateIssue.Impossible) : new FeedDate(value, DateIssue.None);
    }

    /// <summary>The pieces of a date as written; <see cref="ToUtc"/> checks that they name a real instant.</summary>
    private readonly record struct Parts(int Year, int Month, int Day, int Hour, int Minute, int Second, string Fraction, TimeSpan? Offset)
    {
        public DateTimeOffset? ToUtc()
        {
            if (Offset is not { } offset || offset.Duration() > TimeSpan.FromHours(14) || Year is < 1 or > 9999 || Month is < 1 or > 12
                || Day < 1 || Day > DateTime.DaysInMonth(Year, Month) || Hour > 24 || Minute > 59 || Second > 60)
            {
                return null;
            }

            var endOfDay = Hour == 24;
            if (endOfDay && (Minute != 0 || Second != 0))
            {
                return null;
            }

            try
            {
                // A leap second cannot be represented; the instant one second earlier is close enough for news ordering.
                var local = new DateTime(Year, Month, Day, endOfDay ? 0 : Hour, Minute, Math.Min(Second, 59), DateTimeKind.Unspecified);
                if (endOfDay)
                {
                    local = local.AddDays(1);
                }

                if (Fraction.Length > 0)
                {
                    // Fractions beyond 100 ns (7 digits) are dropped rather than rounded.
                    local = local.AddTicks(long.Parse(Fraction.PadRight(7, '0')[..7], CultureInfo.InvariantCulture));
                }

                return new DateTimeOffset(local, offset).ToUniversalTime();
            }
            catch (ArgumentOutOfRangeException)
            {
                // Within range as written but not once shifted to UTC (1 January of year 1 at -01:00).
                return null;
            }
        }
    }

    // ISO 8601 / W3C-DTF date parts: YYYY-MM-DD, YYYYMMDD, YYYY-MM, YYYY, YYYY-DDD (ordinal), YY-MM-DD, YYMMDD, -YY-MM,
    // -YYMM, and Google's YYYY-0MM-DD. Compact forms are whole (six or eight digits), so a bare number is not a date.
    [GeneratedRegex(@"^(?:(?<y>\d{4})-0?(?<mo>\d{2})-(?<d>\d{2})|(?<y>\d{4})(?<mo>\d{2})(?<d>\d{2})|(?<y>\d{4})-(?<mo>\d{2})|(?<y>\d{4})|(?<y>\d{4})-(?<od>\d{3})|(?<yy>\d{2})-(?<mo>\d{2})-(?<d>\d{2})|(?<yy>\d{2})(?<mo>\d{2})(?<d>\d{2})|-(?<yy>\d{2})-?(?<mo>\d{2}))$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDate();

    // The time after 'T' or a space: hh[:mm[:ss[.fff]]] or hhmm[ss], then a zone (Z, ±hh[:mm], UTC/GMT) or none.
    // MSSQL writes a space before the zone ("2004-07-08 23:56:58 -00:20") and ".0" or ":0" after the seconds.
    [GeneratedRegex(@"^(?:(?<h>\d{1,2}):(?<mi>\d{2})(?::(?<s>\d{2})(?:[.,:](?<f>\d{1,9}))?)?|(?<h>\d{2})(?<mi>\d{2})(?<s>\d{2})?(?:[.,](?<f>\d{1,9}))?)\s?(?<z>[Zz]|[A-Za-z]{2,5}|[+-]\d{2}(?::?\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTime();

    // RFC 822 and descendants: [Day,] DD Mon[,] YY[YY] [HH:MM[:SS]] [zone]. The day name is not checked (publishers
    // localize or misspell it); the time may be missing, or written HHMM as in some RSS 0.9x samples.
    [GeneratedRegex(@"^(?:\p{L}+\.?,?\s*)?(?<d>\d{1,2})(?:st|nd|rd|th)?[\s\-/]+(?<mo>\p{L}+)\.?,?[\s\-/]+(?<y>\d{2,4})(?:,?\s+(?<h>\d{1,2}):?(?<mi>\d{2})(?::(?<s>\d{2})(?:\.(?<f>\d{1,9}))?)?(?:\s*(?<ampm>[AaPp][Mm]))?)?(?:\s*(?<z>(?:Etc/)?[A-Za-z]{1,5}(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{1,2}(?::?\d{2})?))?$", RegexOptions.CultureInvariant)]
    private static partial Regex RfcPattern();

    // Month first: "Thu Aug 30 2012 17:26:16 +0200", JavaScript's "Wed Jan 03 2018 13:47:00 GMT+0000", "Jan 3, 2018 1:47 PM EST".
    [GeneratedRegex(@"^(?:\p{L}+\.?,?\s+)?(?<mo>\p{L}+)\.?\s+(?<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?<y>\d{4}),?(?:\s+(?<h>\d{1,2}):(?<mi>\d{2})(?::(?<s>\d{2}))?(?:\s*(?<ampm>[AaPp][Mm]))?)?(?:\s*(?<z>(?:Etc/)?[A-Za-z]{1,5}(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{1,2}(?::?\d{2})?))?$", RegexOptions.CultureInvariant)]
    private static partial Regex MonthFirstPattern();

    // C's asctime, optionally with a zone before the year (Twitter): "Sun Jan  4 16:29:06 2004", "Sun Jul 15 01:16:00 +0000 2012".
    [GeneratedRegex(@"^\p{L}{3,}\s+(?<mo>\p{L}{3,})\s+(?<d>\d{1,2})\s+(?<h>\d{1,2}):(?<mi>\d{2}):(?<s>\d{2})(?:\s+(?<z>[A-Za-z]{1,5}|[+-]\d{2}:?\d{2}))?\s+(?<y>\d{4})$", RegexOptions.CultureInvariant)]
    private static partial Regex AsctimePattern();

    // Perforce: "Fri, 2006/09/15 08:19:53 EDT" (year first, so not ambiguous).
    [GeneratedRegex(@"^(?:\p{L}+,?\s+)?(?<y>\d{4})/(?<mo>\d{1,2})/(?<d>\d{1,2})\s+(?<h>\d{1,2}):(?<mi>\d{2}):(?<s>\d{2})(?:\s*(?<z>[A-Za-z]{1,5}|[+-]\d{2}:?\d{2}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex PerforcePattern();

    // Hungarian: "2004-július-13T9:15-05:00" (month named in Hungarian, or English).
    [GeneratedRegex(@"^(?<y>\d{4})-(?<mo>\p{L}+)-(?<d>\d{1,2})(?:T(?<h>\d{1,2}):(?<mi>\d{2})(?::(?<s>\d{2}))?(?<z>Z|[+-]\d{2}:?\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex HungarianPattern();

    // Korean blogs, in Korea Standard Time when no zone is given: OnBlog "2004년 05월 28일 01:31:15" and
    // Nate "2004-05-25 오후 11:23:17" (오전 = a.m., 오후 = p.m.).
    [GeneratedRegex(@"^(?<y>\d{4})\s*년\s*(?<mo>\d{1,2})\s*월\s*(?<d>\d{1,2})\s*일(?:\s+(?<h>\d{1,2}):(?<mi>\d{2})(?::(?<s>\d{2}))?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex OnBlogPattern();

    [GeneratedRegex(@"^(?<y>\d{4})-(?<mo>\d{1,2})-(?<d>\d{1,2})\s+(?<ampm>오전|오후)\s*(?<h>\d{1,2}):(?<mi>\d{2})(?::(?<s>\d{2}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex NatePattern();

    // Anything but single spaces: runs of whitespace, tabs, newlines.
    [GeneratedRegex(@"\s{2,}|[\t\r\n\f\v\u00A0]")]
    private static partial Regex ExtraWhitespace();

    [GeneratedRegex(@"\s*\([^)]*\)\s*$")]
    private static partial Regex ParenComment();

    private static readonly TimeSpan Kst = TimeSpan.FromHours(9);

    private static Parts? TryIso(string text)
    {
        // Date and time are split at the first 'T' or space; anything before must be all digits and dashes.
        var cut = text.IndexOfAny(['T', 't', ' ']);
        var datePart = cut < 0 ? text : text[..cut];
        var d = IsoDate().Match(datePart);
        if (!d.Success)
        {
            return null;
        }

        var year = d.Groups["y"].Success ? Int(d, "y") : TwoDigitYear(Int(d, "yy"));
        int month = 1, day = 1;
        if (d.Groups["od"].Success)
        {
            // Ordinal day of the year; day 366 of a common year is impossible, checked by the month walk below.
            var ordinal = Int(d, "od");
            if (ordinal < 1 || ordinal > (DateTime.IsLeapYear(Math.Clamp(year, 1, 9999)) ? 366 : 365))
            {
                return new Parts(year, 13, 1, 0, 0, 0, "", TimeSpan.Zero);
            }

            var date = new DateTime(Math.Clamp(year, 1, 9999), 1, 1, 0, 0, 0, DateTimeKind.Unspecified).AddDays(ordinal - 1);
            (month, day) = (date.Month, date.Day);
        }
        else
        {
            month = d.Groups["mo"].Success ? Int(d, "mo") : 1;
            day = d.Groups["d"].Success ? Int(d, "d") : 1;
        }

        if (cut < 0)
        {
            return new Parts(year, month, day, 0, 0, 0, "", TimeSpan.Zero);
        }

        var t = IsoTime().Match(text[(cut + 1)..].Trim());
        if (!t.Success)
        {
            return null;
        }

        // No zone: W3C-DTF requires one; UTC is the least surprising reading (MSSQL writes none).
        var offset = t.Groups["z"].Success ? ZoneOffset(t.Groups["z"].Value) : TimeSpan.Zero;
        if (offset is null)
        {
            return null;
        }

        return new Parts(year, month, day, Int(t, "h"), Int(t, "mi"), t.Groups["s"].Success ? Int(t, "s") : 0, t.Groups["f"].Value, offset);
    }

    private static Parts? TryRfc822(string text)
    {
        var m = RfcPattern().Match(text);
        if (!m.Success)
        {
            m = MonthFirstPattern().Match(text);
            if (!m.Success)
            {
                return null;
            }
        }

        var month = MonthNumber(m.Groups["mo"].Value);
        if (month is null)
        {
            return null;
        }

        var yearText = m.Groups["y"].Value;
        var year = Int(m, "y");
        year = yearText.Length switch
        {
            2 => TwoDigitYear(year),

            // RFC 2822 section 4.3: three-digit years add 1900.
            3 => 1900 + year,
            _ => year,
        };

        var hour = m.Groups["h"].Success ? Int(m, "h") : 0;
        if (m.Groups["ampm"].Success)
        {
            if (hour is < 1 or > 12)
            {
                return new Parts(year, month.Value, Int(m, "d"), 99, 0, 0, "", TimeSpan.Zero);
            }

            hour = (hour % 12) + (char.ToUpperInvariant(m.Groups["ampm"].Value[0]) == 'P' ? 12 : 0);
        }

        // No zone at all: RFC 822 requires one; UTC is the least surprising reading.
        var offset = m.Groups["z"].Success ? ZoneOffset(m.Groups["z"].Value) : TimeSpan.Zero;
        if (offset is null)
        {
            return null;
        }

        return new Parts(year, month.Value, Int(m, "d"), hour, m.Groups["mi"].Success ? Int(m, "mi") : 0,
            m.Groups["s"].Success ? Int(m, "s") : 0, m.Groups["f"].Value, offset);
    }

    private static Parts? TryAsctime(string text)
    {
        var m = AsctimePattern().Match(text);
        if (!m.Success || MonthNumber(m.Groups["mo"].Value) is not { } month)
        {
            return null;
        }

        var offset = m.Groups["z"].Success ? ZoneOffset(m.Groups["z"].Value) : TimeSpan.Zero;
        return offset is null ? null : new Parts(Int(m, "y"), month, Int(m, "d"), Int(m, "h"), Int(m, "mi"), Int(m, "s"), "", offset);
    }

    private static Parts? TryPerforce(string text)
    {
        var m = PerforcePattern().Match(text);
        if (!m.Success)
        {
            return null;
        }

        var offset = m.Groups["z"].Success ? ZoneOffset(m.Groups["z"].Value) : TimeSpan.Zero;
        return offset is null ? null : new Parts(Int(m, "y"), Int(m, "mo"), Int(m, "d"), Int(m, "h"), Int(m, "mi"), Int(m, "s"), "", offset);
    }

    private static Parts? TryHungarian(string text)
    {
        var m = HungarianPattern().Match(text);
        if (!m.Success || MonthNumber(m.Groups["mo"].Value) is not { } month)
        {
            return null;
        }

        var offset = m.Groups["z"].Success ? ZoneOffset(m.Groups["z"].Value) : TimeSpan.Zero;
        return offset is null
            ? null
            : new Parts(Int(m, "y"), month, Int(m, "d"), m.Groups["h"].Success ? Int(m, "h") : 0, m.Groups["mi"].Success ? Int(m, "mi") : 0,
                m.Groups["s"].Success ? Int(m, "s") : 0, "", offset);
    }

    private static Parts? TryKorean(string text)
    {
        var m = OnBlogPattern().Match(text);
        if (m.Success)
        {
            return new Parts(Int(m, "y"), Int(m, "mo"), Int(m, "d"), m.Groups["h"].Success ? Int(m, "h") : 0,
                m.Groups["mi"].Success ? Int(m, "mi") : 0, m.Groups["s"].Success ? Int(m, "s") : 0, "", Kst);
        }

        m = NatePattern().Match(text);
        if (!m.Success)
        {
            return null;
        }

        var hour = Int(m, "h");
        if (hour is < 1 or > 12)
        {
            return new Parts(Int(m, "y"), Int(m, "mo"), Int(m, "d"), 99, 0, 0, "", Kst);
        }

        hour = (hour % 12) + (m.Groups["ampm"].Value == "오후" ? 12 : 0);
        return new Parts(Int(m, "y"), Int(m, "mo"), Int(m, "d"), hour, Int(m, "mi"), m.Groups["s"].Success ? Int(m, "s") : 0, "", Kst);
    }

    // RFC 2822 section 4.3: two-digit years below 50 are 20xx, the rest 19xx.
    private static int TwoDigitYear(int yy) => yy < 50 ? 2000 + yy : 1900 + yy;

    private static int Int(Match m, string group) => int.Parse(m.Groups[group].Value, NumberStyles.None, CultureInfo.InvariantCulture);

    private static int? MonthNumber(string name)
    {
        if (name.Length < 3)
        {
            return null;
        }

        // Full names ("September") and common abbreviations ("Sept") are accepted by their first three letters,
        // but only when the rest is a prefix of the real name, so "Marmalade" is not March.
        var index = Array.FindIndex(MonthNames, full => full.StartsWith(name, StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            return index + 1;
        }

        // Greek abbreviations (with and without accents) and Hungarian names, as feedparser reads them.
        return ForeignMonths.TryGetValue(name.TrimEnd('.'), out var month) ? month : null;
    }

    private static readonly string[] MonthNames =
    [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ];

    private static readonly Dictionary<string, int> ForeignMonths = new(StringComparer.OrdinalIgnoreCase)
    {
        // Greek
        ["Ιαν"] = 1, ["Φεβ"] = 2, ["Μάρ"] = 3, ["Μαρ"] = 3, ["Μάώ"] = 3, ["Μαώ"] = 3, ["Απρ"] = 4, ["Μάι"] = 5, ["Μαϊ"] = 5,
        ["Μαι"] = 5, ["Μάϊ"] = 5, ["Ιούν"] = 6, ["Ιουν"] = 6, ["Ιον"] = 6, ["Ιούλ"] = 7, ["Ιουλ"] = 7, ["Ιολ"] = 7,
        ["Αύγ"] = 8, ["Αυγ"] = 8, ["Σεπ"] = 9, ["Οκτ"] = 10, ["Νοέ"] = 11, ["Νοε"] = 11, ["Δεκ"] = 12,

        // Hungarian
        ["január"] = 1, ["február"] = 2, ["március"] = 3, ["április"] = 4, ["május"] = 5, ["június"] = 6, ["július"] = 7,
        ["augusztus"] = 8, ["szeptember"] = 9, ["október"] = 10, ["november"] = 11, ["december"] = 12,
    };

    /// <summary>Offset for a zone written as Z, a name, a military letter, +HH, +HHMM, +HH:MM, GMT+HH[:MM] or Etc/GMT.</summary>
    internal static TimeSpan? ZoneOffset(string zone)
    {
        zone = zone.Trim();
        if (zone.StartsWith("Etc/", StringComparison.OrdinalIgnoreCase))
        {
            zone = zone[4..];
        }

        if (zone.Length == 0)
        {
            return TimeSpan.Zero;
        }

        if (zone[0] is '+' or '-')
        {
            return NumericOffset(zone);
        }

        // "GMT+0100", "UTC-05:00": a name followed by a numeric offset from it.
        var signAt = zone.IndexOfAny(['+', '-']);
        if (signAt > 0)
        {
            var named = NamedZone(zone[..signAt]);
            var numeric = NumericOffset(zone[signAt..]);
            return named is null || numeric is null ? null : named + numeric;
        }

        return NamedZone(zone);
    }

    private static TimeSpan? NumericOffset(string text)
    {
        var sign = text[0] == '-' ? -1 : 1;
        var digits = text[1..].Replace(":", string.Empty, StringComparison.Ordinal);
        if (digits.Length is 0 or > 4 || !digits.All(char.IsAsciiDigit))
        {
            return null;
        }

        int hours, minutes;
        if (digits.Length <= 2)
        {
            hours = int.Parse(digits, CultureInfo.InvariantCulture);
            minutes = 0;
        }
        else
        {
            // "+530" and "+0530" both mean five and a half hours.
            hours = int.Parse(digits[..^2], CultureInfo.InvariantCulture);
            minutes = int.Parse(digits[^2..], CultureInfo.InvariantCulture);
        }

        // Out of range ("+9900") is returned as such and refused as impossible by Parts.ToUtc.
        return minutes > 59 ? TimeSpan.FromDays(1) : sign * new TimeSpan(hours, minutes, 0);
    }

    private static TimeSpan? NamedZone(string name)
    {
        if (name.Length == 1)
        {
            return MilitaryZone(char.ToUpperInvariant(name[0]));
        }

        return Zones.TryGetValue(name, out var hours) ? TimeSpan.FromMinutes(hours * 60) : null;
    }

    // Military zones as the US military defines them (A = UTC+1 … M = UTC+12, N = UTC-1 … Y = UTC-12, Z = UTC).
    // RFC 822 printed the signs reversed; RFC 1123 (5.2.14) notes the error, and real senders follow the military table.
    private static TimeSpan? MilitaryZone(char c) => c switch
    {
        'Z' => TimeSpan.Zero,
        >= 'A' and <= 'I' => TimeSpan.FromHours(c - 'A' + 1),
        >= 'K' and <= 'M' => TimeSpan.FromHours(c - 'K' + 10),
        >= 'N' and <= 'Y' => TimeSpan.FromHours(-(c - 'N' + 1)),
        _ => null,
    };

    // RFC 822 names first, then abbreviations publishers actually write. Ambiguous ones take the reading most likely in
    // English-language news feeds: CST is US Central (RFC 822), IST is India (+05:30), BST is British Summer Time.
    // AT/ET/CT/MT/PT are the US zones without their standard/daylight letter, read as standard time.
    private static readonly Dictionary<string, double> Zones = new(StringComparer.OrdinalIgnoreCase)
    {
        ["UT"] = 0, ["UTC"] = 0, ["GMT"] = 0, ["Z"] = 0, ["WET"] = 0, ["WEZ"] = 0,
        ["EST"] = -5, ["EDT"] = -4, ["CST"] = -6, ["CDT"] = -5, ["MST"] = -7, ["MDT"] = -6, ["PST"] = -8, ["PDT"] = -7,
        ["AT"] = -4, ["ET"] = -5, ["CT"] = -6, ["MT"] = -7, ["PT"] = -8,
        ["AKST"] = -9, ["AKDT"] = -8, ["HST"] = -10, ["AST"] = -4, ["ADT"] = -3, ["NST"] = -3.5, ["NDT"] = -2.5,
        ["BST"] = 1, ["IST"] = 5.5, ["CET"] = 1, ["CEST"] = 2, ["MET"] = 1, ["MEST"] = 2, ["MEZ"] = 1, ["MESZ"] = 2,
        ["WEST"] = 1, ["WESZ"] = 1, ["EET"] = 2, ["EEST"] = 3, ["OEZ"] = 2, ["OESZ"] = 3, ["MSK"] = 3,
        ["GST"] = 4, ["PKT"] = 5, ["HKT"] = 8, ["SGT"] = 8, ["CCT"] = 8, ["AWST"] = 8, ["JST"] = 9, ["KST"] = 9,
        ["ACST"] = 9.5, ["ACDT"] = 10.5, ["AEST"] = 10, ["AEDT"] = 11, ["NZST"] = 12, ["NZDT"] = 13,
        ["BRT"] = -3, ["ART"] = -3,
    };
}
