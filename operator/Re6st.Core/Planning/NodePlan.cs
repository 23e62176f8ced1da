using Re6st.Core.Addressing;

namespace Re6st.Core.Planning;

/// <summary>
/// One host's part of the plan, as the operator writes it into its MeshNode: its prefixes and the
/// sub-meshes it belongs to (its home, plus one per bridge role), with what it announces into
/// each and what it must never announce there; and its pod ranges when the mesh carries pods
/// (inside its prefixes, so announcing the prefixes routes the pods too).
/// </summary>
public sealed record NodePlan(
    string Name,
    string HomeSubMesh,
    IpPrefix Ipv6Prefix,
    IpPrefix? Ipv4Prefix,
    IReadOnlyList<MembershipPlan> Memberships,
    PodRanges? Pods = null)
{
    public bool IsBridge => Memberships.Count > 1;
}

public enum MembershipRole
{
    Home,
    Bridge,
}

/// <summary>
/// A sub-mesh this node's Babel speaks in. <see cref="Announce"/>: the node's own prefixes (home) and
/// the aggregates it originates there (bridges). <see cref="DenyOut"/>: Babel out-filters for the
/// node's interfaces in this sub-mesh, so another sub-mesh's specific prefixes never leak in and
/// no aggregate covering this sub-mesh is ever imported into it.
/// </summary>
public sealed record MembershipPlan(
    string SubMesh,
    MembershipRole Role,
    int? BridgeLevel,
    IpPrefix Ipv6Range,
    IpPrefix? Ipv4Range,
    IReadOnlyList<IpPrefix> Announce,
    IReadOnlyList<RouteFilter> DenyOut);

public enum FilterMatch
{
    /// <summary>Exactly this prefix.</summary>
    Exact,

    /// <summary>Any prefix strictly inside this one.</summary>
    MoreSpecific,
}

public sealed record RouteFilter(IpPrefix Prefix, FilterMatch Match)
{
    public bool Denies(IpPrefix route) => Match == FilterMatch.Exact ? route == Prefix : Prefix.StrictlyContains(route);

    /// <summary>The babeld filter statement for the interface <paramref name="interfaceName"/>.</summary>
    public string ToBabel(string interfaceName) => Match == FilterMatch.Exact
        ? $"out if {interfaceName} ip {Prefix} eq {Prefix.Length} deny"
        : $"out if {interfaceName} ip {Prefix} ge {Prefix.Length + 1} deny";
}
