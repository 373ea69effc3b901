using System.Globalization;

namespace FinNews.Core;

/// <summary>
/// The one reading of a time bound typed by a person, shared by the command line (<c>--since</c>) and the HTTP API
/// (<c>since</c>, <c>until</c>): a duration counted back from now (<c>30m</c>, <c>24h</c>, <c>7d</c>, <c>2w</c>) or an
/// ISO 8601 instant (a time without an offset is UTC).
/// </summary>
public static class RelativeInstant
{
    /// <summary>What <see cref="TryParse"/> accepts, for error messages and documentation.</summary>
    public const string Accepted = "a duration back from now (30m, 24h, 7d, 2w) or an ISO 8601 instant (2026-11-20T18:00:00Z)";

    /// <summary>
    /// Reads <paramref name="text"/> against <paramref name="now"/> (the injected clock's time). False for anything
    /// else, including a duration reaching before year 1.
    /// </summary>
    public static bool TryParse(string? text, DateTimeOffset now, out DateTimeOffset instant)
    {
        instant = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        if (text.Length >= 2 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            var unit = char.ToLowerInvariant(text[^1]) switch
            {
                'm' => TimeSpan.TicksPerMinute,
                'h' => TimeSpan.TicksPerHour,
                'd' => TimeSpan.TicksPerDay,
                'w' => 7 * TimeSpan.TicksPerDay,
                _ => 0,
            };
            if (unit != 0)
            {
                // Checked in ticks so a huge count ("99999999d") is refused instead of overflowing.
                var back = now.UtcTicks - DateTimeOffset.MinValue.UtcTicks;
                if (n > back / unit)
                {
                    return false;
                }

                instant = now.ToUniversalTime().AddTicks(-n * unit);
                return true;
            }
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            instant = parsed.ToUniversalTime();
            return true;
        }

        return false;
    }
}
