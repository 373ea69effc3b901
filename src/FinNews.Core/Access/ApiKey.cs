namespace FinNews.Core.Access;

/// <summary>
/// The scopes an API key may hold, each including the weaker ones: <see cref="Reader"/> reads and asks,
/// <see cref="Editor"/> also edits and approves briefings, <see cref="Admin"/> also changes feeds and subscribers.
/// </summary>
public static class ApiScopes
{
    public const string Reader = "reader";
    public const string Editor = "editor";
    public const string Admin = "admin";

    /// <summary>The known scopes, weakest first.</summary>
    public static IReadOnlyList<string> All { get; } = [Reader, Editor, Admin];

    /// <summary>True when a key holding <paramref name="granted"/> may call an endpoint requiring <paramref name="required"/>.</summary>
    public static bool Satisfies(string granted, string required) =>
        Rank(granted) is var g && Rank(required) is var r && g >= 0 && r >= 0 && g >= r;

    private static int Rank(string scope) => scope switch
    {
        Reader => 0,
        Editor => 1,
        Admin => 2,
        _ => -1,
    };
}

/// <summary>One stored API key: never the key itself, only what identifies it.</summary>
/// <param name="Prefix">The first 8 characters of the key, shown in listings so an operator can tell keys apart.</param>
/// <param name="RequestsPerMinute">The key's fixed-window rate limit.</param>
public sealed record ApiKey(
    long Id,
    string Name,
    string Prefix,
    string Scope,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    int RequestsPerMinute)
{
    public bool IsRevoked => RevokedAt is not null;
}

/// <summary>A newly created key: <paramref name="Key"/> is the plaintext, shown once and never stored.</summary>
public sealed record CreatedApiKey(string Key, ApiKey Record);

/// <summary>A field of a key request that failed validation, named with its bad value.</summary>
public sealed class ApiKeyValidationException : ArgumentException
{
    public ApiKeyValidationException()
    {
    }

    public ApiKeyValidationException(string message) : base(message)
    {
    }

    public ApiKeyValidationException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public ApiKeyValidationException(string field, string message) : base(message, field)
    {
    }
}
