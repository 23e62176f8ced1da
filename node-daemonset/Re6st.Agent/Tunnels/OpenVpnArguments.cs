using System.Globalization;
using System.Text.RegularExpressions;

namespace Re6st.Agent.Tunnels;

/// <summary>The command line of one arrow's openvpn: a pure function of the spec and the host's identity.</summary>
public static partial class OpenVpnArguments
{
    /// <summary>Two of OpenVPN 2.6's default (AEAD) data ciphers; each tunnel negotiates one (P2P NCP).</summary>
    public const string DataCiphers = "AES-256-GCM:CHACHA20-POLY1305";

    /// <summary>
    /// Which end answers the TLS handshake: the one whose fingerprint sorts lower. Both ends know both
    /// fingerprints, so they agree without talking.
    /// </summary>
    public static bool IsTlsServer(string ownFingerprint, string peerFingerprint)
    {
        var order = string.CompareOrdinal(OpenVpnIdentity.NormalizeFingerprint(ownFingerprint), OpenVpnIdentity.NormalizeFingerprint(peerFingerprint));
        return order == 0
            ? throw new ArgumentException("the peer presents this host's own certificate fingerprint", nameof(peerFingerprint))
            : order < 0;
    }

    /// <summary><see cref="TunnelSpec.PeerPublicKey"/> carries the peer's certificate fingerprint.</summary>
    public static IReadOnlyList<string> For(TunnelSpec spec, OpenVpnIdentity identity, OpenVpnProcessFiles files)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(files);
        if (!IsValidInterfaceName(spec.Interface))
        {
            throw new ArgumentException($"'{spec.Interface}' is not an interface name (1 to 15 of A-Z a-z 0-9 _ -)", nameof(spec));
        }

        var peer = OpenVpnIdentity.NormalizeFingerprint(spec.PeerPublicKey);
        List<string> args =
        [
            // Point-to-point TUN with a fixed name; nothing pushed or pulled, no --ifconfig: the
            // driver gives the device its link-local address, and Babel routes over it.
            "--dev-type", "tun", "--dev", spec.Interface,

            // The userspace data path is the one measured here: with a data-channel-offload module
            // loaded, openvpn would make a different kind of device, with other limits.
            "--disable-dco",

            // The spec's MTU fits: AEAD adds 24 bytes (opcode and peer id, packet id, tag), UDP and
            // IPv6 48, so 1420 leaves 1492 on the wire.
            "--tun-mtu", spec.Mtu.ToString(CultureInfo.InvariantCulture),

            // UDP over the underlay, bound to every address; --multihome answers from the address
            // the peer sent to, --float follows a peer whose address changes (packets are
            // authenticated, as WireGuard's roaming is). An end that waits listens on IPv6, which
            // also takes IPv4 peers (as mapped addresses); an end that dials an IPv4 peer needs
            // an IPv4 socket: openvpn resolves --remote in the family --proto names, and with
            // udp6 an IPv4 address fails ("Address family for hostname not supported").
            "--proto", spec.PeerEndpoint is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } ? "udp4" : "udp6",
            "--lport", spec.ListenPort.ToString(CultureInfo.InvariantCulture), "--multihome", "--float",
        ];

        // Without an endpoint this end waits to be reached: in p2p mode either end may send first,
        // whatever its TLS role.
        if (spec.PeerEndpoint is { } endpoint)
        {
            args.AddRange(["--remote", endpoint.Address.ToString(), endpoint.Port.ToString(CultureInfo.InvariantCulture)]);
        }

        // CAVEAT: static-key p2p (--secret) comes up in ~50 ms but is deprecated since 2.6; the TLS
        // handshake takes about a second (first ping 1.0-1.3 s after the second end starts). No CA
        // and no shared key: --peer-fingerprint alone pins the peer; ECDHE needs no DH file.
        args.AddRange(IsTlsServer(identity.Fingerprint, peer) ? ["--tls-server", "--dh", "none"] : ["--tls-client"]);
        args.AddRange(["--cert", identity.CertificatePath, "--key", identity.KeyPath, "--peer-fingerprint", peer, "--data-ciphers", DataCiphers]);

        args.AddRange(
        [
            // Keepalive keeps NAT and conntrack state; after 30 s of silence the end re-handshakes.
            // Dead peers are Babel's business, not OpenVPN's.
            "--keepalive", "5", "30",

            // CAVEAT: without --persist-tun every in-process restart (ping-restart, a failed
            // handshake) closes and recreates the device, losing its address and Babel's interface.
            // --persist-key: once it is no longer root it could not read the key file again.
            "--persist-tun", "--persist-key",

            // It parses packets from any host: it gives up root once the device and socket are open.
            "--user", "nobody", "--group", files.Group,

            // Foreground, owned by the driver; the pid file lets a restarted agent find it again.
            "--writepid", files.PidFile, "--log", files.LogFile, "--verb", "3",
        ]);
        return args;
    }

    /// <summary>Linux allows 15 bytes; the name also names the arrow's pid and log files.</summary>
    public static bool IsValidInterfaceName(string name) => name is not null && InterfaceName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,15}$")]
    private static partial Regex InterfaceName();
}
