using System.Text;
using System.Text.RegularExpressions;

namespace FinNews.SystemTests.Support;

/// <summary>
/// Just enough MIME to read what the app sent: unfolded headers, multipart bodies split on their boundary, and
/// quoted-printable / base64 parts decoded as UTF-8. System.Net.Mail writes mail but cannot read it.
/// </summary>
public sealed partial class MimePart
{
    private MimePart(IReadOnlyList<KeyValuePair<string, string>> headers, string body, IReadOnlyList<MimePart> parts)
    {
        Headers = headers;
        RawBody = body;
        Parts = parts;
    }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The body as transferred (still encoded).</summary>
    public string RawBody { get; }

    /// <summary>Child parts of a multipart body.</summary>
    public IReadOnlyList<MimePart> Parts { get; }

    public string MediaType => (Header("Content-Type") ?? "text/plain").Split(';')[0].Trim().ToLowerInvariant();

    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The decoded body text.</summary>
    public string Text
    {
        get
        {
            var encoding = (Header("Content-Transfer-Encoding") ?? "7bit").Trim().ToLowerInvariant();
            var bytes = encoding switch
            {
                "base64" => Convert.FromBase64String(string.Concat(RawBody.Where(c => !char.IsWhiteSpace(c)))),
                "quoted-printable" => DecodeQuotedPrintable(RawBody),
                _ => Encoding.UTF8.GetBytes(RawBody),
            };
            return Encoding.UTF8.GetString(bytes);
        }
    }

    /// <summary>Every leaf part, depth first.</summary>
    public IEnumerable<MimePart> Leaves() => Parts.Count == 0 ? [this] : Parts.SelectMany(p => p.Leaves());

    public static MimePart Parse(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        raw = raw.Replace("\r\n", "\n", StringComparison.Ordinal);
        var split = raw.IndexOf("\n\n", StringComparison.Ordinal);
        var head = split < 0 ? raw : raw[..split];
        var body = split < 0 ? "" : raw[(split + 2)..];
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in head.Split('\n'))
        {
            if (line.Length > 0 && (line[0] == ' ' || line[0] == '\t') && headers.Count > 0)
            {
                var last = headers[^1];
                headers[^1] = new(last.Key, last.Value + " " + line.Trim());
            }
            else if (line.IndexOf(':', StringComparison.Ordinal) is var colon and > 0)
            {
                headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
        }

        var parts = new List<MimePart>();
        var type = headers.FirstOrDefault(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Value ?? "";
        if (type.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) && Boundary().Match(type) is { Success: true } m)
        {
            var boundary = "--" + m.Groups[1].Value;
            List<string>? current = null;
            foreach (var line in body.Split('\n'))
            {
                var trimmed = line.TrimEnd();
                if (trimmed == boundary || trimmed == boundary + "--")
                {
                    if (current is not null)
                    {
                        parts.Add(Parse(string.Join('\n', current)));
                    }

                    current = trimmed == boundary ? [] : null;
                    if (current is null)
                    {
                        break;
                    }
                }
                else
                {
                    current?.Add(line);
                }
            }
        }

        return new MimePart(headers, body, parts);
    }

    private static byte[] DecodeQuotedPrintable(string s)
    {
        var output = new List<byte>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '=' && i + 1 < s.Length && s[i + 1] == '\n')
            {
                i++; // soft line break
            }
            else if (s[i] == '=' && i + 2 < s.Length && Uri.IsHexDigit(s[i + 1]) && Uri.IsHexDigit(s[i + 2]))
            {
                output.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                output.AddRange(Encoding.UTF8.GetBytes(s[i].ToString()));
            }
        }

        return [.. output];
    }

    [GeneratedRegex("boundary=\"?([^\";]+)\"?", RegexOptions.IgnoreCase)]
    private static partial Regex Boundary();
}
