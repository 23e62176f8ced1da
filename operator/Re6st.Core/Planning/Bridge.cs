namespace Re6st.Core.Planning;

/// <summary>
/// A bridge in a plan: node <see cref="Node"/> (index) elected at tree level <see cref="Level"/>
/// also joins leaf <see cref="Target"/> (tree index). <see cref="Reason"/> tells whether the random,
/// capacity-weighted draw chose it or the split-repair exception did.
/// </summary>
public readonly record struct Bridge(int Node, int Level, int Target, BridgeReason Reason);

public enum BridgeReason
{
    /// <summary>Kept from the previous plan.</summary>
    Kept,

    /// <summary>Drawn at random, weighted by capacity (the rule).</summary>
    Elected,

    /// <summary>Added because the random draw left sibling sub-meshes unable to reach each other.</summary>
    ConnectSplit,
}
