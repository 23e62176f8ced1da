using System.Net;
using Re6st.Agent.Babel;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;

namespace Re6st.Agent.Membership;

/// <summary>
/// What one host knows of its mesh at a moment: its own plan and policy (from the operator), and the
/// peers of its sub-meshes with what they publish (underlay endpoint, key, the arrows they initiated).
/// </summary>
public sealed record AgentView(
    NodePlan Plan,
    RandomizationPolicy Policy,
    TimeSpan HelloInterval,
    IReadOnlyList<PeerView> Peers)
{
    /// <summary>The mesh's Babel keys when the source has them (a cluster's key Secret); null: the agent's configured key.</summary>
    public BabelKeyRing? Keys { get; init; }

    /// <summary>This host as the operator describes it (labels, capacity, technologies); null: no labels, every technology.</summary>
    public NodeInfo? Self { get; init; }

    /// <summary>The peers that share sub-mesh <paramref name="subMesh"/> with this host.</summary>
    public IEnumerable<PeerView> MembersOf(string subMesh) => Peers.Where(p => p.SubMeshes.Contains(subMesh));
}

/// <summary>A peer as this host sees it: who it is per the operator, and what it publishes itself.</summary>
public sealed record PeerView(
    NodeInfo Node,
    IReadOnlyList<string> SubMeshes,
    PeerStatus? Status)
{
    /// <summary>The peer's own prefixes as the operator allocated them (not as the peer claims): what a stand-in may announce for it.</summary>
    public IReadOnlyList<IpPrefix> Prefixes { get; init; } = [];
}

/// <summary>What a host publishes for its peers (in a MeshNode's status, or a status file in the lab).</summary>
public sealed record PeerStatus(
    string Node,
    IPAddress Underlay,
    string WireGuardKey,
    IReadOnlyList<PublishedArrow> Arrows)
{
    /// <summary>Arrows this host accepted, with the installed routes each still carries here.</summary>
    public IReadOnlyList<AcceptedArrow> Accepted { get; init; } = [];

    /// <summary>The host's OpenVPN certificate fingerprint (pinned by peers), when it runs OpenVPN.</summary>
    public string? OpenVpnFingerprint { get; init; }

    /// <summary>The technologies the host found it can run (null: not published, assume what the operator says).</summary>
    public TunnelTechnology? Technologies { get; init; }

    /// <summary>The size of the host's routing table (installed routes).</summary>
    public int? Routes { get; init; }

    /// <summary>
    /// Set while the host's agent hands the host over to its next run (<see cref="Lifecycle.HandOver"/>):
    /// its tunnels and routes stay but its babeld is silent, so until then its peers keep their
    /// arrows to it and announce its prefixes for it.
    /// </summary>
    public DateTimeOffset? HandOverUntil { get; init; }

    /// <summary>The peers whose prefixes this host announces while they hand over.</summary>
    public IReadOnlyList<string> StandingIn { get; init; } = [];

    /// <summary>The id of the Babel key this host's babeld signs with (null when not published).</summary>
    public string? SigningKey { get; init; }

    /// <summary>What the principles did at this host since its agent started (null when not published).</summary>
    public Lifecycle.ChurnFigures? Churn { get; init; }
}

/// <summary>
/// An arrow a host initiated (its end is up and listens on <see cref="Port"/>); draining when it is
/// being retired. <see cref="Id"/> tells a new arrow from an old one to the same peer (interface
/// names and ports are reused).
/// </summary>
public sealed record PublishedArrow(string Id, string Peer, string SubMesh, TunnelTechnology Technology, int Port, bool Draining = false)
{
    /// <summary>When the host opened it (null when not published).</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>The selection step that chose the peer (null when not known).</summary>
    public string? Reason { get; init; }
}

/// <summary>An arrow a host accepted from <see cref="Peer"/>, and the routes it carries at this end.</summary>
public sealed record AcceptedArrow(string Peer, string SubMesh, int Routes);
