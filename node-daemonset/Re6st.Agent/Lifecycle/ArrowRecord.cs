using System.Security.Cryptography;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;

namespace Re6st.Agent.Lifecycle;

/// <summary>
/// One arrow of this host: initiated here (and published) or accepted from a peer. Both ends know
/// it by the id its initiator gave it.
/// </summary>
public sealed class ArrowRecord(string id, Slot slot, string peer, string subMesh, TunnelTechnology technology, bool initiated, DateTimeOffset created)
{
    public string Id { get; } = id;

    public Slot Slot { get; } = slot;

    public string Interface => Slot.Interface;

    public string Peer { get; } = peer;

    public string SubMesh { get; } = subMesh;

    public TunnelTechnology Technology { get; } = technology;

    public bool Initiated { get; } = initiated;

    public DateTimeOffset Created { get; } = created;

    /// <summary>The selection step that chose the peer (random, or an exception's name); null when not known (taken over from a previous run, or accepted).</summary>
    public string? Reason { get; init; }

    public ArrowState State { get; set; } = ArrowState.Active;

    public DateTimeOffset? DrainStartedAt { get; set; }

    /// <summary>While draining: Babel passes for a moment (a breath, see <see cref="DrainPulse"/>) rather than being dropped.</summary>
    public bool Breathing { get; set; }

    /// <summary>While draining: when the current drop or breath began.</summary>
    public DateTimeOffset? PulseSince { get; set; }

    /// <summary>Set when the drain is not the in-use exception's own (a precaution for an arrow destroyed unused, a technology the rules deny): the reason its removal counts under.</summary>
    public RemovalReason? DestroyReason { get; set; }

    /// <summary>
    /// Set when the arrow is to go at once, with the reason it goes under: dead (it stopped
    /// answering its probes) or closed by its peer (its far end said goodbye inside the tunnel).
    /// </summary>
    public RemovalReason? Condemned { get; set; }

    public static string NewId() => RandomNumberGenerator.GetHexString(12, lowercase: true);
}

/// <summary>An interface name and its listen port, from a sub-mesh's pool.</summary>
public sealed record Slot(int Membership, int Index, string Interface, int Port);
