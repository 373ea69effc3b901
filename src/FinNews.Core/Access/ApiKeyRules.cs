using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FinNews.Core.Access;

/// <summary>What an API key is and how a new one is checked, the same for every store.</summary>
/// <remarks>
/// A key is <c>fn_</c> followed by 32 random bytes in base64url. Only its SHA-256 hash and its first 8 characters (the
/// prefix, for listings) are stored: the plaintext is returned once by <see cref="IApiKeyStore.Create"/> and cannot be
/// recovered.
/// </remarks>
public static class ApiKeyRules
{
    /// <summary>Characters of a key kept in clear for listings.</summary>
    public const int PrefixLength = 8;

    /// <summary>The start of every key.</summary>
    public const string KeyPrefix = "fn_";

    public const int MinRequestsPerMinute = 1;
    public const int MaxRequestsPerMinute = 100_000;

    /// <summary>A key's last use is recorded at most this often.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>The rules of a new key, the same on every store; returns the trimmed name.</summary>
    /// <exception cref="ApiKeyValidationException">A field is invalid; the message names it and its value.</exception>
    internal static string ValidateNew(string name, string scope, int requestsPerMinute)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length == 0 || trimmed.Length > 100)
        {
            throw new ApiKeyValidationException("name", $"name = '{name}': a name of 1 to 100 characters is required.");
        }

        if (!ApiScopes.All.Contains(scope, StringComparer.Ordinal))
        {
            throw new ApiKeyValidationException("scope", $"scope = '{scope}': unknown scope (use one of {string.Join(", ", ApiScopes.All.Select(s => $"'{s}'"))}).");
        }

        if (requestsPerMinute is < MinRequestsPerMinute or > MaxRequestsPerMinute)
        {
            throw new ApiKeyValidationException("requests_per_minute",
                string.Create(CultureInfo.InvariantCulture, $"requests_per_minute = {requestsPerMinute}: must be between {MinRequestsPerMinute} and {MaxRequestsPerMinute}."));
        }

        return trimmed;
    }

    /// <summary>A new random key: <see cref="KeyPrefix"/> and 32 random bytes in base64url.</summary>
    internal static string NewKey() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>The stored hash of a key.</summary>
    internal static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
