namespace FinNews.Core.Feeds;

/// <summary>Canonical article URLs: the same story linked with and without tracking noise maps to one key.</summary>
public static class UrlCanonicalizer
{
    private static readonly HashSet<string> TrackingParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_hsenc", "_hsmi", "ref_src",
        "cmpid", "ncid", "sr_share", "smid", "taid", "ocid", "src", "mkt_tok",
    };

    /// <summary>Lower-cases scheme and host, drops default ports, fragments, utm_* and known tracking parameters.</summary>
    /// <returns>The canonical form, or the trimmed input when it is not an absolute http(s) URL.</returns>
    public static string Canonicalize(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return "";
        }

        url = url.Trim();
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return url;
        }

        var query = uri.Query.TrimStart('?');
        var kept = query.Length == 0
            ? []
            : query.Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Where(p =>
                {
                    var name = Uri.UnescapeDataString(p.Split('=', 2)[0]);
                    return !name.StartsWith("utm_", StringComparison.OrdinalIgnoreCase) && !TrackingParameters.Contains(name);
                })
                .ToArray();

        var builder = new UriBuilder(uri)
        {
            Scheme = uri.Scheme.ToLowerInvariant(),
            Host = uri.Host.ToLowerInvariant(),
            Fragment = "",
            Query = string.Join('&', kept),
        };
        if (uri.IsDefaultPort)
        {
            builder.Port = -1;
        }

        return builder.Uri.AbsoluteUri;
    }
}
