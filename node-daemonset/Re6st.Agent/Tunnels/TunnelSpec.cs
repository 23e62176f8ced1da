using System.Net;
using Re6st.Core.Policy;

namespace Re6st.Agent.Tunnels;

/// <summary>
/// One arrow's tunnel: a point-to-point interface to one peer, carrying an IPv6 link-local address
/// for Babel (payload routes, IPv4 included, travel as v4-via-v6, so no other address is needed).
/// </summary>
public sealed record TunnelSpec(
    string Interface,
    TunnelTechnology Technology,
    string PeerPublicKey,
    IPEndPoint? PeerEndpoint,
    int ListenPort,
    IPAddress LinkLocal)
{
    /// <summary>WireGuard over IPv6 underlay: 1500 - 40 (IPv6) - 8 (UDP) - 32 (WireGuard) = 1420.</summary>
    public int Mtu { get; init; } = 1420;
}
