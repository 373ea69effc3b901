using System.Net.Mail;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace FinNews.Core.Delivery;

/// <summary>The rules of a subscription and of the send log, the same for every <see cref="IDeliveryStore"/>.</summary>
public static partial class SubscriberRules
{
    /// <summary>The rules of a subscription, the same on every store: each field checked, lists normalized.</summary>
    /// <exception cref="SubscriberValidationException">A field is invalid; the message names it and its value.</exception>
    internal static (string Email, string Zone, string Schedule, List<string> Sections, List<string> Tickers) Validate(NewSubscriber request, HashSet<string>? watchlist)
    {
        ArgumentNullException.ThrowIfNull(request);
        var email = ValidateEmail(request.Email);
        var zone = (request.TimeZone ?? "").Trim();
        DigestSchedule.Parse(request.Schedule, zone); // validates both schedule and time zone
        var sections = Normalize(request.Sections, "sections", SectionKey(), s => s.ToLowerInvariant(), "a section key such as 'top' or 'watchlist'");
        if (sections.FirstOrDefault(s => !FinNews.Core.Briefing.BriefingSections.All.Contains(s, StringComparer.Ordinal)) is { } unknown)
        {
            throw new SubscriberValidationException("sections",
                $"sections = '{unknown}': no such section (briefings have {string.Join(", ", FinNews.Core.Briefing.BriefingSections.All)}).");
        }

        var tickers = Normalize(request.Tickers, "tickers", Ticker(), s => s.TrimStart('$').ToUpperInvariant(), "a symbol such as 'NVLX'");
        if (watchlist is not null && tickers.FirstOrDefault(t => !watchlist.Contains(t)) is { } unwatched)
        {
            throw new SubscriberValidationException("tickers",
                $"tickers = '{unwatched}': not on the watchlist, so no briefing statement is ever tagged with it (watchlist: {string.Join(", ", watchlist.Order(StringComparer.Ordinal))}).");
        }

        return (email, zone, request.Schedule.Trim(), sections, tickers);
    }

    /// <summary>A bare, single address (no display name, no line breaks); errors name the field and value.</summary>
    public static string ValidateEmail(string? email)
    {
        var trimmed = (email ?? "").Trim();
        if (trimmed.Length is 0 or > 254 || trimmed.Any(char.IsControl) || !MailAddress.TryCreate(trimmed, out var address) ||
            !string.Equals(address.Address, trimmed, StringComparison.Ordinal) || !address.Host.Contains('.', StringComparison.Ordinal) && address.Host != "localhost")
        {
            throw new SubscriberValidationException("email", $"email = '{email}': not a single email address (e.g. 'analyst@example.com').");
        }

        return trimmed;
    }

    private static List<string> Normalize(IReadOnlyList<string>? values, string field, Regex pattern, Func<string, string> canonical, string expected)
    {
        var result = new List<string>();
        foreach (var raw in values ?? [])
        {
            var value = canonical((raw ?? "").Trim());
            if (!pattern.IsMatch(value))
            {
                throw new SubscriberValidationException(field, $"{field} = '{raw}': not {expected}.");
            }

            if (!result.Contains(value, StringComparer.Ordinal))
            {
                result.Add(value);
            }
        }

        return result;
    }

    /// <summary>A new unsubscribe token: 24 random bytes in base64url.</summary>
    internal static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A send-log error as stored: at most 2000 characters.</summary>
    internal static string Truncate(string s) => s.Length <= 2000 ? s : s[..2000];

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,39}$", RegexOptions.CultureInvariant)]
    private static partial Regex SectionKey();

    [GeneratedRegex(@"^[A-Z0-9][A-Z0-9.\-]{0,14}$", RegexOptions.CultureInvariant)]
    private static partial Regex Ticker();
}
