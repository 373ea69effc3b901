namespace FinNews.Core.Access;

/// <summary>API keys with a scope and a per-key rate limit; only hashes are stored.</summary>
public interface IApiKeyStore
{
    /// <summary>Creates a key; the plaintext is returned once and never stored.</summary>
    /// <exception cref="ApiKeyValidationException">A field is invalid; the message names it and its value.</exception>
    CreatedApiKey Create(string name, string scope, int requestsPerMinute = 120);

    /// <summary>Every key, revoked ones included, by id.</summary>
    IReadOnlyList<ApiKey> List();

    /// <summary>Revokes by numeric id or prefix; false when no key matches; revoking twice keeps the first time.</summary>
    bool Revoke(string idOrPrefix);

    /// <summary>The key record for a presented key, or null when unknown or revoked.</summary>
    ApiKey? Authenticate(string? presentedKey);

    /// <summary>The key record with that id for a page session, or null when unknown or revoked.</summary>
    ApiKey? FindActive(long id);
}
