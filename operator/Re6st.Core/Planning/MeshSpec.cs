namespace Re6st.Core.Planning;

/// <summary>
/// A mesh's addressing and layout as declared (all optional except the IPv6 range).
/// <see cref="MeshValidator"/> turns it into a <see cref="MeshLayout"/> or explains every problem.
/// </summary>
public sealed record MeshSpec
{
    public string? Ipv6Range { get; init; }

    public int? Ipv6NodePrefixLength { get; init; }

    public string? Ipv4Range { get; init; }

    public int? Ipv4NodePrefixLength { get; init; }

    /// <summary>1, 2 or 3: how many levels of sub-meshes.</summary>
    public int? Order { get; init; }

    /// <summary>For order K, K-1 numbers: how many sub-meshes each level splits into.</summary>
    public IReadOnlyList<int>? SubMeshes { get; init; }

    /// <summary>When <see cref="SubMeshes"/> is not given: the size the layout is made for (each level splits into ⌈N^(1/K)⌉).</summary>
    public int? ExpectedNodes { get; init; }

    public double? BridgeShare { get; init; }

    /// <summary>At each re-election, the share of bridges replaced at random.</summary>
    public double? BridgeRenewShare { get; init; }

    public int? MinBridges { get; init; }

    /// <summary>Pod ranges carved from the node prefixes (off when null or not enabled).</summary>
    public PodNetworkSpec? PodNetwork { get; init; }
}
