using System.Globalization;
using System.Text.RegularExpressions;

namespace FinNews.Core.Feeds;

/// <summary>
/// Parses the date formats found in feeds (RFC 822/1123/2822 and W3C-DTF / ISO 8601, plus the common ways publishers
/// get them wrong) into UTC. Never throws: a date that cannot be read is <c>null</c>, because one bad date must not
/// cost the whole item.
/// </summary>
public static partial class FeedDates
{
    /// <summary>Reads <paramref name="s"/> as a feed date and returns it in UTC (offset zero), or null.</summary>
    public static DateTimeOffset? Parse(string? s)
    {
        if (string.IsNullOrWhiteSpace(s))
        {
            return null;
        }

        // Publishers pad dates with newlines and tabs, and some append a zone comment such as "(UTC)".
        var text = Whitespace().Replace(s, " ").Trim();
        text = ParenComment().Replace(text, string.Empty).Trim();
        if (text.Length == 0 || text.Length > 100)
        {
            return null;
        }

        try
        {
            return TryIso(text) ?? TryRfc822(text) ?? TryLoose(text);
        }
        catch (ArgumentException)
        {
            // Out-of-range parts (month 13, day 31 in April) surface as ArgumentOutOfRangeException from the constructors.
            return null;
        }
    }

    // W3C-DTF profile of ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, and date-times with optional seconds and fraction.
    // A space instead of 'T' and a missing zone are tolerated (the zone then defaults to UTC).
    [GeneratedRegex(@"^(?<y>\d{4})(?:-(?<mo>\d{2})(?:-(?<d>\d{2})(?:[Tt ](?<h>\d{2}):(?<mi>\d{2})(?::(?<s>\d{2})(?:[.,](?<f>\d{1,9}))?)?\s*(?<z>[Zz]|(?:UTC|GMT)|[+-]\d{2}(?::?\d{2})?)?)?)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoPattern();

    // RFC 822 and descendants: [Day,] DD Mon YY[YY] HH:MM[:SS] [zone]. The day name is not checked (publishers
    // localize or misspell it); the time may be missing, or written HHMM as in some RSS 0.9x samples.
    [GeneratedRegex(@"^(?:[A-Za-z\u00C0-\u024F]+\.?,?\s*)?(?<d>\d{1,2})(?:st|nd|rd|th)?[\s\-/]+(?<mo>[A-Za-z]+)\.?,?[\s\-/]+(?<y>\d{2,4})(?:,?\s+(?<h>\d{1,2}):?(?<mi>\d{2})(?::(?<s>\d{2})(?:\.(?<f>\d{1,9}))?)?(?:\s*(?<ampm>[AaPp][Mm]))?)?(?:\s*(?<z>[A-Za-z]{1,5}(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{1,2}(?::?\d{2})?))?$", RegexOptions.CultureInvariant)]
    private static partial Regex RfcPattern();

    // "Mon Jan 03 2018 13:47:00 GMT+0000" (JavaScript Date.toString) and "Jan 3, 2018 1:47 PM EST".
    [GeneratedRegex(@"^(?:[A-Za-z]+\.?,?\s+)?(?<mo>[A-Za-z]+)\.?\s+(?<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?<y>\d{4}),?(?:\s+(?<h>\d{1,2}):(?<mi>\d{2})(?::(?<s>\d{2}))?(?:\s*(?<ampm>[AaPp][Mm]))?)?(?:\s*(?<z>[A-Za-z]{1,5}(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{1,2}(?::?\d{2})?))?$", RegexOptions.CultureInvariant)]
    private static partial Regex MonthFirstPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\s*\([^)]*\)\s*$")]
    private static partial Regex ParenComment();

    private static DateTimeOffset? TryIso(string text)
    {
        var m = IsoPattern().Match(text);
        if (!m.Success)
        {
            return null;
        }

        var year = Int(m, "y");
        var month = m.Groups["mo"].Success ? Int(m, "mo") : 1;
        var day = m.Groups["d"].Success ? Int(m, "d") : 1;
        var hour = m.Groups["h"].Success ? Int(m, "h") : 0;
        var minute = m.Groups["mi"].Success ? Int(m, "mi") : 0;
        var second = m.Groups["s"].Success ? Int(m, "s") : 0;
        var offset = m.Groups["z"].Success ? ZoneOffset(m.Groups["z"].Value) : TimeSpan.Zero;
        if (offset is null)
        {
            return null;
        }

        return Build(year, month, day, hour, minute, second, m.Groups["f"].Value, offset.Value);
    }

    private static DateTimeOffset? TryRfc822(string text)
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
            // RFC 2822 section 4.3: two-digit years below 50 are 20xx, the rest 19xx; three-digit years add 1900.
            2 => year < 50 ? 2000 + year : 1900 + year,
            3 => 1900 + year,
            _ => year,
        };

        var hour = m.Groups["h"].Success ? Int(m, "h") : 0;
        var minute = m.Groups["mi"].Success ? Int(m, "mi") : 0;
        var second = m.Groups["s"].Success ? Int(m, "s") : 0;
        if (m.Groups["ampm"].Success)
        {
            var pm = char.ToUpperInvariant(m.Groups["ampm"].Value[0]) == 'P';
            if (hour is < 1 or > 12)
            {
                return null;
            }

            hour = (hour % 12) + (pm ? 12 : 0);
        }

        // No zone at all: RFC 822 requires one; UTC is the least surprising reading.
        var offset = m.Groups["z"].Success ? ZoneOffset(m.Groups["z"].Value) : TimeSpan.Zero;
        if (offset is null)
        {
            return null;
        }

        return Build(year, month.Value, Int(m, "d"), hour, minute, second, m.Groups["f"].Value, offset.Value);
    }

    // Last resort for shapes the patterns above do not cover; the invariant culture only, never the machine's.
    private static DateTimeOffset? TryLoose(string text)
    {
        // Plain numbers ("12345") would otherwise be read by some parsers as odd dates; a date needs some separator.
        if (!text.Any(c => c is '-' or '/' or ':' or ' ' or '.'))
        {
            return null;
        }

        return DateTimeOffset.TryParse(
            text,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
            out var value)
            ? value.ToUniversalTime()
            : null;
    }

    private static DateTimeOffset? Build(int year, int month, int day, int hour, int minute, int second, string fraction, TimeSpan offset)
    {
        if (year is < 1 or > 9999 || hour > 24 || minute > 59 || second > 60)
        {
            return null;
        }

        // A leap second cannot be represented; the instant one second earlier is close enough for news ordering.
        second = Math.Min(second, 59);
        var endOfDay = hour == 24;
        if (endOfDay && (minute != 0 || second != 0))
        {
            return null;
        }

        var local = new DateTime(year, month, day, endOfDay ? 0 : hour, minute, second, DateTimeKind.Unspecified);
        if (endOfDay)
        {
            local = local.AddDays(1);
        }

        if (fraction.Length > 0)
        {
            // Fractions beyond 100 ns (7 digits) are dropped rather than rounded.
            var ticks = long.Parse(fraction.PadRight(7, '0')[..7], CultureInfo.InvariantCulture);
            local = local.AddTicks(ticks);
        }

        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

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
        return index < 0 ? null : index + 1;
    }

    private static readonly string[] MonthNames =
    [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ];

    /// <summary>Offset for a zone written as Z, a name, a military letter, +HH, +HHMM, +HH:MM or GMT+HH[:MM].</summary>
    internal static TimeSpan? ZoneOffset(string zone)
    {
        zone = zone.Trim();
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

        if (hours > 14 || minutes > 59)
        {
            return null;
        }

        return sign * new TimeSpan(hours, minutes, 0);
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
    private static readonly Dictionary<string, double> Zones = new(StringComparer.OrdinalIgnoreCase)
    {
        ["UT"] = 0, ["UTC"] = 0, ["GMT"] = 0, ["Z"] = 0, ["WET"] = 0, ["WEZ"] = 0,
        ["EST"] = -5, ["EDT"] = -4, ["CST"] = -6, ["CDT"] = -5, ["MST"] = -7, ["MDT"] = -6, ["PST"] = -8, ["PDT"] = -7,
        ["AKST"] = -9, ["AKDT"] = -8, ["HST"] = -10, ["AST"] = -4, ["ADT"] = -3, ["NST"] = -3.5, ["NDT"] = -2.5,
        ["BST"] = 1, ["IST"] = 5.5, ["CET"] = 1, ["CEST"] = 2, ["MET"] = 1, ["MEST"] = 2, ["MEZ"] = 1, ["MESZ"] = 2,
        ["WEST"] = 1, ["WESZ"] = 1, ["EET"] = 2, ["EEST"] = 3, ["OEZ"] = 2, ["OESZ"] = 3, ["MSK"] = 3,
        ["GST"] = 4, ["PKT"] = 5, ["HKT"] = 8, ["SGT"] = 8, ["CCT"] = 8, ["AWST"] = 8, ["JST"] = 9, ["KST"] = 9,
        ["ACST"] = 9.5, ["ACDT"] = 10.5, ["AEST"] = 10, ["AEDT"] = 11, ["NZST"] = 12, ["NZDT"] = 13,
        ["BRT"] = -3, ["ART"] = -3,
    };
}
