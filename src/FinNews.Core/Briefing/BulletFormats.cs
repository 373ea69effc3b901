using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FinNews.Core.Briefing;

/// <summary>A model reply read as bullets, or why it could not be read.</summary>
public sealed record ParsedReply(IReadOnlyList<ProposedBullet> Bullets, string? Error)
{
    /// <summary>True when the reply could not be read at all.</summary>
    public bool Failed => Error is not null;
}

/// <summary>
/// The two output formats the LLM writer asks for, and their strict readers: JSON matching <see cref="JsonSchema"/>
/// (when the endpoint supports <c>response_format: json_schema</c>) or Markdown lines <c>- text [1][3]</c>.
/// </summary>
/// <remarks>
/// Strict means a reply that is not in the format fails as a whole (and gets a repair round), and a bullet with a
/// missing or malformed citation (<c>[1,3]</c>, <c>[^2]</c>, <c>(source 2)</c>) carries a format problem that the
/// validator reports, rather than being guessed at.
/// </remarks>
public static partial class BulletFormats
{
    /// <summary>The response schema (strict mode: every property required, no extras).</summary>
    public const string JsonSchema = """
        {
          "type": "object",
          "properties": {
            "bullets": {
              "type": "array",
              "items": {
                "type": "object",
                "properties": {
                  "headline": { "type": ["string", "null"] },
                  "text": { "type": "string" },
                  "citations": { "type": "array", "items": { "type": "integer" } }
                },
                "required": ["headline", "text", "citations"],
                "additionalProperties": false
              }
            }
          },
          "required": ["bullets"],
          "additionalProperties": false
        }
        """;

    /// <summary>Reads a JSON reply.</summary>
    public static ParsedReply ParseJson(string reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var text = reply.Trim();
        if (text.Length == 0)
        {
            return new ParsedReply([], "the reply was empty; expected a JSON object with \"bullets\"");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            return new ParsedReply([], $"not valid JSON ({ex.Message})");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("bullets", out var items) || items.ValueKind != JsonValueKind.Array)
            {
                return new ParsedReply([], "expected a JSON object with a \"bullets\" array");
            }

            var bullets = new List<ProposedBullet>();
            var index = 0;
            foreach (var item in items.EnumerateArray())
            {
                index++;
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                {
                    return new ParsedReply([], string.Create(CultureInfo.InvariantCulture, $"bullet {index} has no \"text\" string"));
                }

                var problems = new List<string>();
                var citations = new List<int>();
                if (item.TryGetProperty("citations", out var c) && c.ValueKind == JsonValueKind.Array)
                {
                    foreach (var n in c.EnumerateArray())
                    {
                        if (n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var number) && number > 0)
                        {
                            citations.Add(number);
                        }
                        else
                        {
                            problems.Add($"malformed citation {n.GetRawText()}");
                        }
                    }
                }

                var headline = item.TryGetProperty("headline", out var h) && h.ValueKind == JsonValueKind.String && h.GetString()!.Trim().Length > 0
                    ? h.GetString()!.Trim()
                    : null;
                var (body, inline) = SplitCitations(t.GetString()!, problems);
                citations.AddRange(inline);
                bullets.Add(new ProposedBullet(headline, body, citations.Distinct().ToList(), problems));
            }

            return new ParsedReply(bullets, null);
        }
    }

    /// <summary>Reads a Markdown reply: every non-blank line must be a <c>- </c> bullet.</summary>
    public static ParsedReply ParseMarkdown(string reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var bullets = new List<ProposedBullet>();
        var lineNumber = 0;
        foreach (var raw in reply.Replace("\r", "", StringComparison.Ordinal).Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (!line.StartsWith("- ", StringComparison.Ordinal))
            {
                return new ParsedReply([], string.Create(CultureInfo.InvariantCulture,
                    $"line {lineNumber} is not a bullet of the form '- text [1][3]': \"{Shorten(line)}\""));
            }

            line = line[2..].Trim();
            string? headline = null;
            var lead = LeadIn().Match(line);
            if (lead.Success)
            {
                headline = lead.Groups["h"].Value.Trim().TrimEnd(':');
                line = line[lead.Length..].Trim();
            }

            var problems = new List<string>();
            var trailing = TrailingCitations().Match(line);
            var citations = new List<int>();
            if (trailing.Success)
            {
                foreach (Match n in Citation().Matches(trailing.Value))
                {
                    citations.Add(int.Parse(n.Groups["n"].Value, CultureInfo.InvariantCulture));
                }

                line = line[..trailing.Index].TrimEnd();
            }

            var (body, inline) = SplitCitations(line, problems);
            if (inline.Count > 0)
            {
                problems.Add("citations must come at the end of the line");
                citations.AddRange(inline);
            }

            if (citations.Count == 0 && problems.Count == 0)
            {
                problems.Add("no citation: end the line with [n]");
            }

            bullets.Add(new ProposedBullet(headline, body, citations.Distinct().ToList(), problems));
        }

        return new ParsedReply(bullets, null);
    }

    /// <summary>Writes a bullet back in the Markdown form, for repair prompts and dropped-bullet records.</summary>
    public static string Render(ProposedBullet bullet)
    {
        ArgumentNullException.ThrowIfNull(bullet);
        var cites = string.Concat(bullet.Citations.Select(n => string.Create(CultureInfo.InvariantCulture, $"[{n}]")));
        var head = bullet.Headline is { Length: > 0 } h ? $"**{h}** " : "";
        return $"{head}{bullet.Text} {cites}".TrimEnd();
    }

    // Removes [n] markers from a statement (they become citations) and flags bracketed things that look like
    // citations but are not [n].
    private static (string Text, List<int> Citations) SplitCitations(string text, List<string> problems)
    {
        var citations = new List<int>();
        foreach (Match m in Citation().Matches(text))
        {
            citations.Add(int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture));
        }

        var stripped = Citation().Replace(text, "");
        foreach (Match m in Malformed().Matches(stripped))
        {
            problems.Add($"malformed citation {m.Value}");
        }

        stripped = Malformed().Replace(stripped, "");
        return (Spaces().Replace(stripped, " ").Trim().Replace(" .", ".", StringComparison.Ordinal), citations);
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "…";

    [GeneratedRegex(@"\[(?<n>\d{1,3})\]")]
    private static partial Regex Citation();

    [GeneratedRegex(@"(?:\s*\[\d{1,3}\])+\s*\.?\s*$")]
    private static partial Regex TrailingCitations();

    // [1,3] [1-3] [^2] [source 2] [S2] (source 2) (2): anything bracketed with a digit that is not [n].
    [GeneratedRegex(@"\[[^\[\]]*\d[^\[\]]*\]|\((?:source|src|ref)s?\s*\d[^()]*\)", RegexOptions.IgnoreCase)]
    private static partial Regex Malformed();

    [GeneratedRegex(@"^\*\*(?<h>[^*]{1,120})\*\*")]
    private static partial Regex LeadIn();

    [GeneratedRegex(@"\s{2,}")]
    private static partial Regex Spaces();
}
