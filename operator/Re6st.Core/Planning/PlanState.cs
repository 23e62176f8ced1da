using Re6st.Core.Addressing;

namespace Re6st.Core.Planning;

/// <summary>
/// What a plan must remember so the next plan renumbers nobody: each node's sub-mesh and prefixes,
/// and the elected bridges. The operator persists it; the planner only reads it.
/// </summary>
public sealed record PlanState
{
    public static PlanState Empty { get; } = new();

    public IReadOnlyDictionary<string, NodeAllocation> Nodes { get; init; } = new Dictionary<string, NodeAllocation>();

    public IReadOnlyList<BridgeAssignment> Bridges { get; init; } = [];
}

public sealed record NodeAllocation(string SubMesh, IpPrefix Ipv6Prefix, IpPrefix? Ipv4Prefix);

/// <summary>A bridge: <see cref="Node"/> also joins leaf sub-mesh <see cref="SubMesh"/>, elected at <see cref="Level"/>.</summary>
public sealed record BridgeAssignment(string Node, int Level, string SubMesh);
