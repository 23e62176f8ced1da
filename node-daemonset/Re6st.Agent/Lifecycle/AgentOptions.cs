using System.Net;
using Re6st.Agent.Babel;
using Re6st.Agent.Probing;
using Re6st.Core.Policy;

namespace Re6st.Agent.Lifecycle;

public sealed record AgentOptions(string Node, string StateDirectory, IPAddress Underlay, BabelKey Key)
{
    /// <summary>
    /// Arrow interfaces are named prefix + membership + slot ("re60a3"). In a cluster each host is a
    /// machine and "re6" is enough; the lab runs many hosts on one machine and gives each its own.
    /// </summary>
    public string InterfacePrefix { get; init; } = "re6";

    /// <summary>Arrow interfaces per sub-mesh (outgoing arrows plus those peers open towards this host).</summary>
    public int PoolSize { get; init; } = 48;

    public int PortBase { get; init; } = 51820;

    /// <summary>The mesh this agent serves (a label on its metrics).</summary>
    public string Mesh { get; init; } = "default";

    public ProbeOptions Probe { get; init; } = new();

    /// <summary>Technologies this host may use; those it cannot run (no openvpn installed) are dropped at start.</summary>
    public TunnelTechnology Technologies { get; init; } = TunnelTechnology.All;

    /// <summary>An active arrow whose far end has not spoken authenticated Babel for this long after it came up (or after babeld started) is destroyed.</summary>
    public TimeSpan AuthenticationGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where the host's CNI configuration goes when the mesh carries pods (<see cref="PodNetwork"/>).</summary>
    public string CniConfDirectory { get; init; } = "/etc/cni/net.d";

    /// <summary>How often the host reads its peers, accepts arrows and checks drains.</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(1);
}
