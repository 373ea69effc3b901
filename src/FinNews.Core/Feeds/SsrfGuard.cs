using System.Net;
using System.Net.Sockets;

namespace FinNews.Core.Feeds;

/// <summary>A feed's host resolved to an address FinNews refuses to connect to (loopback, private, metadata...).</summary>
public sealed class FeedAddressRefusedException : IOException
{
    public FeedAddressRefusedException(string message) : base(message) { }
    public FeedAddressRefusedException(string message, Exception inner) : base(message, inner) { }
    public FeedAddressRefusedException() { }
}

/// <summary>
/// Server-side request forgery guard for feed fetches, installed as the <see cref="SocketsHttpHandler.ConnectCallback"/>:
/// it resolves the host itself, refuses non-public addresses unless the request is marked internal, and connects to the
/// address it vetted.
/// </summary>
/// <remarks>
/// Feed URLs (and the redirects they answer with) come from outside; without this guard a feed, or a redirect from
/// one, could make the service read cloud metadata (169.254.169.254) or internal admin pages. Checking the URL's host
/// name up front is not enough: DNS can answer differently on the second lookup (rebinding), so the check happens at
/// connect time on the very addresses the socket then connects to.
/// </remarks>
public sealed class SsrfGuard
{
    /// <summary>Request option: true when the feed is marked internal and may reach private or loopback addresses.</summary>
    public static readonly HttpRequestOptionsKey<bool> AllowInternalKey = new("FinNews.Feeds.AllowInternal");

    /// <summary>Request option: the feed id, so refusals name the feed.</summary>
    public static readonly HttpRequestOptionsKey<string> FeedIdKey = new("FinNews.Feeds.FeedId");

    /// <summary>Request option: what a refusal tells the operator to do (default: mark the feed internal).</summary>
    public static readonly HttpRequestOptionsKey<string> RefusalHintKey = new("FinNews.Feeds.RefusalHint");

    private const string DefaultHint = "mark the feed internal to allow it";

    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;

    /// <param name="resolver">Host name to addresses; the system resolver when null (tests inject a fixed map).</param>
    public SsrfGuard(Func<string, CancellationToken, Task<IPAddress[]>>? resolver = null)
    {
        _resolve = resolver ?? ((host, ct) => Dns.GetHostAddressesAsync(host, ct));
    }

    /// <summary>The connect callback: resolve, vet every address, then connect to the first vetted address that answers.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.InitialRequestMessage;
        var allowInternal = request.Options.TryGetValue(AllowInternalKey, out var allow) && allow;
        var feedId = request.Options.TryGetValue(FeedIdKey, out var id) ? id : "?";
        var hint = request.Options.TryGetValue(RefusalHintKey, out var h) ? h : DefaultHint;
        var addresses = await ResolveAsync(context.DnsEndPoint.Host, feedId, allowInternal, hint, cancellationToken);

        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                // The IPEndPoint, not the host name: the socket must not resolve again (DNS rebinding).
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>
    /// Resolves <paramref name="host"/> and returns its addresses, or throws <see cref="FeedAddressRefusedException"/>
    /// when any of them is not public and the feed is not internal.
    /// </summary>
    public Task<IPAddress[]> ResolveAsync(string host, string feedId, bool allowInternal, CancellationToken cancellationToken) =>
        ResolveAsync(host, feedId, allowInternal, DefaultHint, cancellationToken);

    private async Task<IPAddress[]> ResolveAsync(string host, string feedId, bool allowInternal, string hint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        var addresses = IPAddress.TryParse(bare, out var literal) ? [literal] : await _resolve(bare, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new FeedAddressRefusedException($"Feed '{feedId}': host {host} resolves to no address.");
        }

        if (!allowInternal)
        {
            // Any refused address refuses the host: an attacker controlling DNS could otherwise mix a public address
            // with a private one and let connection order decide.
            foreach (var address in addresses)
            {
                if (Classify(address) is { } kind)
                {
                    throw new FeedAddressRefusedException(
                        $"Feed '{feedId}': host {host} resolves to {address} ({kind} address); {hint}.");
                }
            }
        }

        return addresses;
    }

    /// <summary>Why an address is refused ("loopback", "private", "link-local"...), or null for a public address.</summary>
    public static string? Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return ClassifyV4(address.GetAddressBytes());
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return "non-IP";
        }

        // Forms that embed an IPv4 address reach that IPv4 host (or may, through a translator or tunnel): judge the
        // embedded address, so ::ffff:127.0.0.1 or 64:ff9b::a00:1 is as refused as 127.0.0.1 or 10.0.0.1.
        if (address.IsIPv4MappedToIPv6)
        {
            // ::ffff:a.b.c.d, IPv4-mapped.
            return ClassifyV4(address.MapToIPv4().GetAddressBytes());
        }

        var b = address.GetAddressBytes();
        if (IPAddress.IPv6Loopback.Equals(address))
        {
            return "loopback";
        }

        if (IPAddress.IPv6Any.Equals(address))
        {
            return "unspecified";
        }

        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
        {
            // Deprecated IPv4-compatible form ::a.b.c.d.
            return ClassifyV4(b[12..16]);
        }

        if (b.AsSpan(0, 8).IndexOfAnyExcept((byte)0) < 0 && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
        {
            // IPv4-translated ::ffff:0:a.b.c.d (SIIT, RFC 2765).
            return ClassifyV4(b[12..16]);
        }

        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
        {
            // NAT64 well-known prefix 64:ff9b::/96.
            return ClassifyV4(b[12..16]);
        }

        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01)
        {
            // NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215): translates into a network's own IPv4 space, with
            // the IPv4 address at a place that depends on the prefix length chosen; refused as a whole.
            return "private (local-use NAT64)";
        }

        if (b[0] == 0x20 && b[1] == 0x02)
        {
            // 6to4 2002:aabb:ccdd::/48 carries the IPv4 address in bytes 2-5.
            return ClassifyV4(b[2..6]);
        }

        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)
        {
            // Teredo 2001::/32: a tunnel whose server and (obfuscated) client IPv4 addresses are embedded in the
            // address; no feed lives there, and either embedded address could be a private one. Refused as a whole.
            return "Teredo tunnel";
        }

        return b[0] switch
        {
            0xff => "multicast",
            _ when (b[0] & 0xfe) == 0xfc => "private",                          // fc00::/7 unique local (incl. fd00:ec2::254)
            0xfe when (b[1] & 0xc0) == 0x80 => "link-local",                    // fe80::/10
            0xfe when (b[1] & 0xc0) == 0xc0 => "private",                       // fec0::/10 deprecated site-local
            _ => null,
        };
    }

    private static string? ClassifyV4(byte[] b) => b switch
    {
        [0, ..] => "unspecified",                                               // 0.0.0.0/8 "this network"
        [127, ..] => "loopback",
        [10, ..] => "private",
        [172, >= 16 and <= 31, ..] => "private",
        [192, 168, ..] => "private",
        [169, 254, 169, 254] => "link-local (cloud metadata)",
        [169, 254, ..] => "link-local",
        [100, >= 64 and <= 127, ..] => "shared (CGNAT)",                        // 100.64.0.0/10
        [192, 0, 0, _] => "reserved",                                           // IETF protocol assignments
        [198, 18 or 19, ..] => "reserved",                                      // benchmarking
        [>= 224 and <= 239, ..] => "multicast",
        [>= 240, ..] => "reserved",                                             // 240/4 and 255.255.255.255
        _ => null,
    };
}
