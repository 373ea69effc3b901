using System.Globalization;
using Microsoft.Extensions.Options;

namespace FinNews.Core.Access;

/// <summary>API-key authentication (section "Auth").</summary>
/// <remarks>
/// <see cref="Enabled"/> is false by default so the embedded offline install keeps its anonymous UI and API: then
/// the API's scope checks let every request through. Set <c>Auth:Enabled = true</c> (or
/// <c>FINNEWS_Auth__Enabled=true</c>) on any server reachable by others. <c>/health</c> is never behind a key.
/// </remarks>
public sealed class AuthOptions
{
    /// <summary>Whether the API's scoped route groups and the pages demand a key.</summary>
    public bool Enabled { get; set; }

    /// <summary>How long a page sign-in lasts, in hours (1 to 8760); revoking the key ends it at once.</summary>
    public int SessionHours { get; set; } = 12;
}

/// <summary>Checks the "Auth" section on start, naming the setting and its bad value.</summary>
public sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.SessionHours is >= 1 and <= 8760
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(string.Create(CultureInfo.InvariantCulture, $"Auth:SessionHours = {options.SessionHours}: must be between 1 and 8760."));
    }
}
