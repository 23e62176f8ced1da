using Re6st.Core.Arrows;
using Re6st.Core.Policy;

namespace Re6st.Agent.Lifecycle;

/// <summary>One arrow of this host: initiated here (and published) or accepted from a peer.</summary>
public sealed class ArrowRecord(Slot slot, string peer, string subMesh, TunnelTechnology technology, bool initiated, DateTimeOffset created)
{
    public Slot Slot { get; } = slot;

    public string Interface => Slot.Interface;

    public string Peer { get; } = peer;

    public string SubMesh { get; } = subMesh;

    public TunnelTechnology Technology { get; } = technology;

    public bool Initiated { get; } = initiated;

    public DateTimeOffset Created { get; } = created;

    public ArrowState State { get; set; } = ArrowState.Active;

    public DateTimeOffset? DrainStartedAt { get; set; }
}

/// <summary>An interface name and its listen port, from a sub-mesh's pool.</summary>
public sealed record Slot(int Membership, int Index, string Interface, int Port);
