namespace Re6st.Core.Arrows;

/// <summary>Why an arrow was chosen: the principle (<see cref="Random"/>) or the exception that chose it.</summary>
public enum SelectionReason
{
    Random,
    Bootstrap,
    Preferred,
    SmallMesh,

    /// <summary>A new arrow to a member joined only by draining arrows, when no other member could replace them.</summary>
    MakeBeforeBreak,
}
