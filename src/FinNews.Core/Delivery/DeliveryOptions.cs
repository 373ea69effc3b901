using System.Globalization;
using System.Net.Mail;
using Microsoft.Extensions.Options;

namespace FinNews.Core.Delivery;

/// <summary>The outgoing mail server (section "Smtp"). Credentials come from environment variables, never files.</summary>
public sealed class SmtpOptions
{
    /// <summary>SMTP server host name or address.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>SMTP port (25, 587 with STARTTLS, 2525 for local test servers).</summary>
    public int Port { get; set; } = 25;

    /// <summary>Sender mailbox, optionally with a display name: <c>FinNews &lt;digest@example.com&gt;</c>.</summary>
    public string From { get; set; } = "FinNews <finnews@localhost>";

    /// <summary>
    /// Transport security: <c>auto</c> (implicit TLS on 465, STARTTLS when the server offers it elsewhere), <c>starttls</c>
    /// (required), <c>ssl</c> (implicit TLS), <c>none</c> (plain text, for a local relay).
    /// </summary>
    public string Security { get; set; } = "auto";

    /// <summary>The allowed <see cref="Security"/> values.</summary>
    public static readonly IReadOnlyList<string> SecurityModes = ["auto", "starttls", "ssl", "none"];

    /// <summary>MailKit's socket option for a <see cref="Security"/> value (validated at start).</summary>
    public static MailKit.Security.SecureSocketOptions SocketOptions(string security) => security.ToLowerInvariant() switch
    {
        "starttls" => MailKit.Security.SecureSocketOptions.StartTls,
        "ssl" => MailKit.Security.SecureSocketOptions.SslOnConnect,
        "none" => MailKit.Security.SecureSocketOptions.None,
        _ => MailKit.Security.SecureSocketOptions.Auto,
    };

    /// <summary>Seconds one SMTP conversation may take.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Environment variable holding the user name; no authentication when it is unset or empty.</summary>
    public string UsernameVariable { get; set; } = "FINNEWS_SMTP_USERNAME";

    /// <summary>Environment variable holding the password.</summary>
    public string PasswordVariable { get; set; } = "FINNEWS_SMTP_PASSWORD";
}

/// <summary>Email digests (section "Digest").</summary>
public sealed class DigestOptions
{
    /// <summary>Public base URL of the web app: unsubscribe links are <c>{BaseUrl}/unsubscribe/{token}</c>.</summary>
    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Mailbox that receives <c>mailto:</c> unsubscribe requests; empty means the sender address.</summary>
    public string UnsubscribeMailbox { get; set; } = "";

    /// <summary>Attempts per message within one run (1 = no retry).</summary>
    public int RetryAttempts { get; set; } = 3;

    /// <summary>Delay before the first retry; doubled for each further one.</summary>
    public double RetryBaseDelaySeconds { get; set; } = 2;

    /// <summary>Prefix of every digest subject.</summary>
    public string SubjectPrefix { get; set; } = "[FinNews]";
}

/// <summary>Validates the delivery options; each failure names the configuration key and the bad value.</summary>
public sealed class DeliveryOptionsValidator : IValidateOptions<SmtpOptions>, IValidateOptions<DigestOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Check(
            string.IsNullOrWhiteSpace(options.Host) || options.Host.Any(char.IsWhiteSpace) ? $"Smtp:Host = '{options.Host}': a host name or address is required." : null,
            Range("Smtp:Port", options.Port, 1, 65535),
            MailAddress.TryCreate(options.From, out _) && !HasLineBreak(options.From) ? null : $"Smtp:From = '{options.From}': not a mailbox (e.g. 'FinNews <digest@example.com>').",
            SmtpOptions.SecurityModes.Contains(options.Security?.ToLowerInvariant() ?? "", StringComparer.Ordinal)
                ? null : $"Smtp:Security = '{options.Security}': must be one of {string.Join(", ", SmtpOptions.SecurityModes)}.",
            Range("Smtp:TimeoutSeconds", options.TimeoutSeconds, 1, 600),
            string.IsNullOrWhiteSpace(options.UsernameVariable) ? $"Smtp:UsernameVariable = '{options.UsernameVariable}': name an environment variable." : null,
            string.IsNullOrWhiteSpace(options.PasswordVariable) ? $"Smtp:PasswordVariable = '{options.PasswordVariable}': name an environment variable." : null);
    }

    public ValidateOptionsResult Validate(string? name, DigestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Check(
            Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) && string.IsNullOrEmpty(u.Query) && string.IsNullOrEmpty(u.Fragment)
                ? null : $"Digest:BaseUrl = '{options.BaseUrl}': not an absolute http(s) URL without query or fragment.",
            options.UnsubscribeMailbox.Length == 0 || (MailAddress.TryCreate(options.UnsubscribeMailbox, out var m) && m.Address == options.UnsubscribeMailbox.Trim())
                ? null : $"Digest:UnsubscribeMailbox = '{options.UnsubscribeMailbox}': not a bare address (e.g. 'unsubscribe@example.com').",
            Range("Digest:RetryAttempts", options.RetryAttempts, 1, 10),
            options.RetryBaseDelaySeconds is >= 0 and <= 300 ? null : string.Create(CultureInfo.InvariantCulture, $"Digest:RetryBaseDelaySeconds = {options.RetryBaseDelaySeconds}: must be between 0 and 300."),
            HasLineBreak(options.SubjectPrefix) ? $"Digest:SubjectPrefix = '{options.SubjectPrefix}': must be one line." : null);
    }

    private static bool HasLineBreak(string? s) => s is not null && (s.Contains('\r', StringComparison.Ordinal) || s.Contains('\n', StringComparison.Ordinal));

    private static string? Range(string key, int value, int min, int max) =>
        value >= min && value <= max ? null : string.Create(CultureInfo.InvariantCulture, $"{key} = {value}: must be between {min} and {max}.");

    private static ValidateOptionsResult Check(params string?[] errors)
    {
        var failures = errors.Where(e => e is not null).Cast<string>().ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
