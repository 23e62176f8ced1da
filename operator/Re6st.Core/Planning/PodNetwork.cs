using Re6st.Core.Addressing;

namespace Re6st.Core.Planning;

/// <summary>A mesh's pod network as declared: off unless <see cref="Enabled"/>; lengths default to half a node's prefix.</summary>
public sealed record PodNetworkSpec
{
    public bool? Enabled { get; init; }

    public int? Ipv6PrefixLength { get; init; }

    public int? Ipv4PrefixLength { get; init; }
}

/// <summary>
/// The pod IPAM: each node's pod ranges are carved from the prefixes the mesh already gives that
/// node, so Babel (and, in an n-order mesh, the bridges' aggregates) routes pods exactly as it
/// routes the node: no pod route is ever announced on its own. The pod range is the last
/// sub-prefix of the configured length inside the node's prefix, which keeps it clear of the
/// node's own address (the prefix's first); by default that is the prefix's upper half.
/// </summary>
public sealed record PodNetworkLayout(int Ipv6PrefixLength, int? Ipv4PrefixLength)
{
    /// <summary>IPv6 pod ranges leave room for the bridge's gateway address and pods.</summary>
    public const int MaxIpv6PrefixLength = 120;

    /// <summary>A /30 holds a gateway and one pod; host-local needs the network and broadcast addresses free.</summary>
    public const int MaxIpv4PrefixLength = 30;

    public PodRanges RangesOf(MeshLayout layout, IpPrefix ipv6Prefix, IpPrefix? ipv4Prefix)
    {
        ArgumentNullException.ThrowIfNull(layout);
        return new(
            LastSubprefix(ipv6Prefix, Ipv6PrefixLength),
            ipv4Prefix is { } v4 && Ipv4PrefixLength is { } l4 ? LastSubprefix(v4, l4) : null,
            layout.Ipv6Range,
            layout.Ipv4Range);
    }

    private static IpPrefix LastSubprefix(IpPrefix prefix, int length) => prefix.Subprefix(prefix.CountOf(length) - 1, length);

    /// <summary>Checks the declared pod network against the node prefixes it is carved from; null when it is off.</summary>
    internal static PodNetworkLayout? Validate(PodNetworkSpec? spec, int ipv6NodePrefixLength, bool hasIpv4, int ipv4NodePrefixLength, string meshPath, Validation.IssueCollector issues)
    {
        if (spec is null || spec.Enabled != true)
        {
            return null;
        }

        var path = $"{meshPath}.podNetwork";
        var v6 = spec.Ipv6PrefixLength ?? Math.Min(ipv6NodePrefixLength + 1, 128);
        if (v6 <= ipv6NodePrefixLength || v6 > MaxIpv6PrefixLength)
        {
            issues.Error($"{path}.ipv6PrefixLength", $"/{v6} must be longer than a node's /{ipv6NodePrefixLength} (ipv6NodePrefixLength), from which it is carved, and at most /{MaxIpv6PrefixLength}");
        }

        int? v4 = null;
        if (!hasIpv4)
        {
            if (spec.Ipv4PrefixLength is { } given)
            {
                issues.Error($"{path}.ipv4PrefixLength", $"/{given} is set but the mesh has no ipv4Range: pods get IPv6 only");
            }
        }
        else
        {
            v4 = spec.Ipv4PrefixLength ?? Math.Min(ipv4NodePrefixLength + 1, 32);
            if (spec.Ipv4PrefixLength is null && ipv4NodePrefixLength >= MaxIpv4PrefixLength)
            {
                issues.Error($"{meshPath}.ipv4NodePrefixLength", $"a node's IPv4 prefix is a /{ipv4NodePrefixLength}, which leaves no room for a pod range: set /24 or shorter (a /25 of pods per node), or remove ipv4Range for IPv6-only pods");
            }
            else if (v4 <= ipv4NodePrefixLength || v4 > MaxIpv4PrefixLength)
            {
                issues.Error($"{path}.ipv4PrefixLength", $"/{v4} must be longer than a node's /{ipv4NodePrefixLength} (ipv4NodePrefixLength), from which it is carved, and at most /{MaxIpv4PrefixLength}");
            }
        }

        return new PodNetworkLayout(v6, v4);
    }
}

/// <summary>
/// One node's pod ranges (IPv4 only where the mesh has an IPv4 range), and the mesh's whole ranges:
/// pod packets to the mesh keep their addresses and travel in arrows; to anywhere else (the API
/// server, the Internet) the host masquerades them.
/// </summary>
public sealed record PodRanges(IpPrefix Ipv6, IpPrefix? Ipv4, IpPrefix MeshIpv6, IpPrefix? MeshIpv4)
{
    /// <summary>As Kubernetes lists them in Node.spec.podCIDRs: IPv4 first when there is one (the family most applications use), then IPv6.</summary>
    public IReadOnlyList<string> ToPodCidrs() => Ipv4 is { } v4 ? [v4.ToString(), Ipv6.ToString()] : [Ipv6.ToString()];
}
