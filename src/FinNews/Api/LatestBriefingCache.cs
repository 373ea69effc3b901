using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FinNews.Core.Briefing;

namespace FinNews.Api;

/// <summary>
/// The renderings of the latest briefing, kept while its stored JSON is unchanged: <c>GET /api/v1/briefings/latest</c>
/// then costs one indexed read and a string comparison instead of a deserialization and a rendering per request, and
/// answers <c>If-None-Match</c> with 304.
/// </summary>
/// <remarks>
/// Keyed on the stored JSON itself, not on a time or a local counter: a briefing written or edited by another process
/// (a worker beside this server) changes the JSON, so the next request renders afresh. Never stale, whatever wrote it.
/// </remarks>
internal sealed class LatestBriefingCache
{
    private Entry? _entry;

    /// <summary>The rendering of <paramref name="json"/> in <paramref name="format"/> (json, md or html) and its entity tag.</summary>
    public (string Body, string ETag) Get(string json, string format)
    {
        var entry = _entry;
        if (entry is null || !string.Equals(entry.Json, json, StringComparison.Ordinal))
        {
            entry = new Entry(json);
            _entry = entry; // a race only renders twice; both entries are equal
        }

        return entry.Renderings.GetOrAdd(format, f => (Render(entry.Document, f), $"\"{entry.Hash}-{f}\""));
    }

    /// <summary>The same renderings as /api/v1/briefings/{id}.</summary>
    public static string Render(BriefingDocument briefing, string format) => format switch
    {
        "md" => BriefingRenderer.ToMarkdown(briefing),
        "html" => BriefingRenderer.ToHtmlDocument(briefing, BriefingPublisher.Css),
        _ => BriefingRenderer.ToJson(briefing),
    };

    /// <summary>The media type of a format's rendering.</summary>
    public static string ContentType(string format) => format switch
    {
        "md" => "text/markdown; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        _ => "application/json; charset=utf-8",
    };

    private sealed class Entry(string json)
    {
        public string Json { get; } = json;

        public BriefingDocument Document { get; } = JsonSerializer.Deserialize(json, BriefingJsonContext.Default.BriefingDocument)!;

        public string Hash { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)).AsSpan(0, 12));

        public ConcurrentDictionary<string, (string Body, string ETag)> Renderings { get; } = new(StringComparer.Ordinal);
    }
}
