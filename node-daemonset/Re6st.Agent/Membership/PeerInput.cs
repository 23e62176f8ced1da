using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Re6st.Agent.Tunnels;
using Re6st.Contracts;

namespace Re6st.Agent.Membership;

/// <summary>
/// Trust no node: what a peer publishes in its MeshNode's status is hostile until checked. Each
/// value that reaches a tunnel's command line, babeld, nft or another host's view is checked here
/// against the one form it may take; a value that fails is dropped with the reason (the peer as a
/// whole when no arrow can be opened to it: no WireGuard key, no usable address), never repaired
/// or passed on. Lists are bounded, so a peer cannot make every other host parse without end.
/// The CRD's schema says the same forms (<see cref="PeerPatterns"/>), so the API server refuses most
/// of it first; this is the check that holds when a schema was changed or skipped.
/// </summary>
public static partial class PeerInput
{
    /// <summary>More arrows than any policy opens (arrowsPerNode is at most 64) plus the ones it accepts.</summary>
    public const int MaxArrows = 1024;

    /// <summary>Addresses read from <c>status.endpoints</c>; the first usable one is the underlay.</summary>
    public const int MaxEndpoints = 16;

    /// <summary>Hosts a peer may stand in for at once.</summary>
    public const int MaxStandingIn = 1024;

    /// <summary>A WireGuard public key: 32 bytes in base64, as <c>wg pubkey</c> writes it.</summary>
    public static bool IsWireGuardKey(string? key) =>
        key is { Length: 44 } && key[^1] == '=' && Convert.TryFromBase64String(key, new byte[32], out var written) && written == 32;

    /// <summary>A Kubernetes object name (RFC 1123 subdomain): what a node's and a sub-mesh's names are.</summary>
    public static bool IsName(string? name) => name is { Length: > 0 and <= 253 } && NamePattern().IsMatch(name);

    /// <summary>An arrow id as agents make them (<see cref="Lifecycle.ArrowRecord.NewId"/>: hex), or any short lower-case token.</summary>
    public static bool IsArrowId(string? id) => id is { Length: > 0 and <= 64 } && IdPattern().IsMatch(id);

    /// <summary>An underlay address a tunnel may dial: unicast, not loopback, not unspecified, no IPv6 zone (an interface name a peer would pick).</summary>
    public static bool IsUnderlay(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return !IPAddress.IsLoopback(address)
            && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.Broadcast)
            && !(address.AddressFamily == AddressFamily.InterNetworkV6 && (address.ScopeId != 0 || address.IsIPv6Multicast))
            && !(address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes()[0] is >= 224);
    }

    /// <summary>The canonical fingerprint, or null when <paramref name="fingerprint"/> is not a SHA-256 certificate fingerprint.</summary>
    public static string? Fingerprint(string? fingerprint)
    {
        if (fingerprint is null or { Length: > 128 })
        {
            return null;
        }

        try
        {
            return OpenVpnIdentity.NormalizeFingerprint(fingerprint);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>A value for a log line: short, on one line, control characters shown as escapes.</summary>
    public static string Quote(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        var cut = value.Length > 40 ? value[..40] + "…" : value;
        return "'" + string.Concat(cut.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) + "'";
    }

    [GeneratedRegex(PeerPatterns.Name, RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(PeerPatterns.ArrowId, RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
