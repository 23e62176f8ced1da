namespace Re6st.Core.Arrows;

public enum ArrowState
{
    Active,

    /// <summary>Its Babel cost is raised so routes move away; destroyed once unused or after maxDrain.</summary>
    Draining,
}

/// <summary>
/// What the destruction policy needs to know of one arrow this node initiated.
/// <see cref="RoutesCarried"/> is the number of installed routes whose next hop is over the arrow.
/// </summary>
public readonly record struct ArrowStatus(
    ArrowState State,
    int RoutesCarried,
    long TrafficBytes = 0,
    DateTimeOffset? DrainStartedAt = null)
{
    public bool InUse => RoutesCarried > 0;
}
