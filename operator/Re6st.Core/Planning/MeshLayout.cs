using Re6st.Core.Addressing;

namespace Re6st.Core.Planning;

/// <summary>A checked mesh layout: ranges, node prefix lengths, order and sub-mesh fan-out, bridge parameters.</summary>
public sealed record MeshLayout
{
    public required IpPrefix Ipv6Range { get; init; }

    public int Ipv6NodePrefixLength { get; init; } = 64;

    public IpPrefix? Ipv4Range { get; init; }

    public int Ipv4NodePrefixLength { get; init; } = 32;

    public int Order { get; init; } = 1;

    /// <summary>Fan-out per level (Order - 1 entries).</summary>
    public IReadOnlyList<int> SubMeshes { get; init; } = [];

    public double BridgeShare { get; init; } = 0.1;

    public double BridgeRenewShare { get; init; } = 0.3;

    public int MinBridges { get; init; } = 2;

    /// <summary>The pod network, when the mesh carries pods (<see cref="PodNetworkLayout"/>).</summary>
    public PodNetworkLayout? Pods { get; init; }

    /// <summary>Address bits that level <paramref name="level"/> (1-based) uses to number its sub-meshes.</summary>
    public int LevelBits(int level) => BitsFor(SubMeshes[level - 1]);

    public int SubMeshBits => Enumerable.Range(1, Order - 1).Sum(LevelBits);

    public int LeafCount => SubMeshes.Aggregate(1, (a, b) => a * b);

    public int LeafPrefixLength(IpFamily family) =>
        (family == IpFamily.V6 ? Ipv6Range.Length : Ipv4Range!.Value.Length) + SubMeshBits;

    /// <summary>Node prefixes one leaf sub-mesh holds (the smaller of the two families when IPv4 is on).</summary>
    public long SlotsPerLeaf
    {
        get
        {
            var v6 = SlotBits(Ipv6NodePrefixLength - LeafPrefixLength(IpFamily.V6));
            var v4 = Ipv4Range is null ? long.MaxValue : SlotBits(Ipv4NodePrefixLength - LeafPrefixLength(IpFamily.V4));
            return Math.Min(v6, v4);
        }
    }

    /// <summary>The fan-out per level that minimizes routing tables for N nodes: ⌈N^(1/K)⌉ each.</summary>
    public static IReadOnlyList<int> SuggestSubMeshes(int expectedNodes, int order)
    {
        if (order <= 1)
        {
            return [];
        }

        var perLevel = Math.Max(2, (int)Math.Ceiling(Math.Pow(Math.Max(expectedNodes, 1), 1.0 / order) - 1e-9));
        return [.. Enumerable.Repeat(perLevel, order - 1)];
    }

    public static int BitsFor(int count) => count <= 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(count - 1));

    private static long SlotBits(int bits) => bits < 0 ? 0 : bits >= 62 ? long.MaxValue : 1L << bits;
}
