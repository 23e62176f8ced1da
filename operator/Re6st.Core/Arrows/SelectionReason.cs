namespace Re6st.Core.Arrows;

/// <summary>Why an arrow was chosen: the principle (<see cref="Random"/>) or the exception that chose it.</summary>
public enum SelectionReason
{
    Random,
    Bootstrap,
    Preferred,
    SmallMesh,
}
