namespace Re6st.Core.Arrows;

public enum ArrowAction
{
    Keep,
    StartDrain,
    Destroy,
}

/// <summary>Why the policy decided what it did; the agent counts decisions by this reason.</summary>
public enum DecisionReason
{
    /// <summary>Not drawn this period.</summary>
    NotDrawn,

    /// <summary>Would have been drawn at the normal probability, spared by the most-used exception.</summary>
    MostUsedSpared,

    /// <summary>Drawn and not in use: destroyed at once (the principle).</summary>
    Random,

    /// <summary>Drawn but in use: drained first (in-use exception).</summary>
    InUse,

    /// <summary>Draining and still carrying routes, within maxDrain.</summary>
    StillDraining,

    /// <summary>Draining and no route uses it any more.</summary>
    Drained,

    /// <summary>Still in use after maxDrain: destroyed anyway, because destruction creates life.</summary>
    ForcedAfterMaxDrain,
}

public readonly record struct ArrowDecision(ArrowAction Action, DecisionReason Reason)
{
    /// <summary>Whether the period's draw picked an active arrow for destruction (cut at once, or drained first because in use).</summary>
    public bool Drawn => Reason is DecisionReason.Random or DecisionReason.InUse;
}
