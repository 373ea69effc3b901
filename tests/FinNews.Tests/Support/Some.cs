using FinNews.Core.Storage;

namespace FinNews.Tests.Support;

/// <summary>Throwaway values for tests.</summary>
public static class Some
{
    public static readonly DateTimeOffset Day = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    public static Article Article(string id, string feedId = "wire", string? title = null, DateTimeOffset? published = null,
        IReadOnlyList<string>? tickers = null, string outlet = "Wire", string? summary = null) => new(
        id, feedId, outlet, title ?? $"Headline {id}", $"https://{feedId}.example/{id}", summary ?? $"Summary of {id}.", "",
        published ?? Day, published ?? Day, false, tickers ?? [], [], [], $"hash-{id}");
}
