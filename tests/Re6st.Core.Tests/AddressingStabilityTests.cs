using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Randomness;

namespace Re6st.Core.Tests;

public sealed class AddressingStabilityTests
{
    private static readonly MeshLayout Order2 = new()
    {
        Ipv6Range = IpPrefix.Parse("fd5e:6e7::/48"),
        Ipv4Range = IpPrefix.Parse("10.42.0.0/16"),
        Order = 2,
        SubMeshes = [8],
    };

    private static readonly MeshLayout Order3 = Order2 with { SubMeshes = [3, 5], Order = 3 };

    public static TheoryData<int> Orders => [1, 2, 3];

    [Theory]
    [MemberData(nameof(Orders))]
    public void Plan_JoinsAndLeaves_NeverRenumberOtherNodes(int order)
    {
        var layout = LayoutOfOrder(order);
        var random = new Xoshiro256StarStar(100 + (ulong)order);
        var nodes = Names(0, 200);
        var next = 200;
        var plan = MeshPlanner.Plan(layout, nodes, null, false, Xoshiro256StarStar.ForStream(1, 0));
        for (var round = 1; round <= 30; round++)
        {
            var before = plan.ToState();
            var leaving = random.NextInt(20);
            var survivors = nodes.ToArray();
            random.Shuffle(survivors.AsSpan());
            var joining = Names(next, random.NextInt(20));
            next += joining.Count;
            nodes = [.. survivors.Skip(leaving), .. joining];
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(nodes));

            plan = MeshPlanner.Plan(layout, nodes, before, round % 3 == 0, Xoshiro256StarStar.ForStream(1, (ulong)round));
            Assert.Empty(plan.Errors);
            Assert.DoesNotContain(plan.Notes, n => n.Contains("renumbered", StringComparison.Ordinal) || n.Contains("replaced", StringComparison.Ordinal));
            var after = plan.ToState();
            Assert.Equal(nodes.Count, after.Nodes.Count);
            foreach (var (name, allocation) in after.Nodes)
            {
                if (before.Nodes.TryGetValue(name, out var old))
                {
                    Assert.Equal(old, allocation);
                }
            }

            AssertAddressesSound(plan);
        }
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public void Plan_FreshPlan_KeepsLeavesBalanced(int order)
    {
        var layout = LayoutOfOrder(order);
        foreach (var count in new[] { 1, 7, 15, 16, 17, 100, 1_001 })
        {
            var plan = MeshPlanner.Plan(layout, Names(0, count), null, false, new Xoshiro256StarStar((ulong)count));
            var fills = Enumerable.Range(plan.Tree.FirstLeaf, plan.Tree.LeafCount).Select(l => plan.HomeMembers(l).Length).ToArray();
            Assert.True(fills.Max() - fills.Min() <= 1, $"{count} nodes fill leaves {string.Join(",", fills)}");
            Assert.Equal(count, fills.Sum());
            AssertAddressesSound(plan);
        }
    }

    [Fact]
    public void Plan_NewNodesAfterLeaves_GoToTheLeastFilledLeaves()
    {
        var nodes = Names(0, 80);
        var first = MeshPlanner.Plan(Order2, nodes, null, false, new Xoshiro256StarStar(1));

        // Empty leaf "3" entirely, then add 10 nodes: they all go there (it is the only one below 10).
        var left = nodes.Where(n => first.NodePlanFor(n.Name).HomeSubMesh != "3").ToList();
        var joining = Names(1000, 10);
        var second = MeshPlanner.Plan(Order2, [.. left, .. joining], first.ToState(), false, new Xoshiro256StarStar(2));
        Assert.All(joining, n => Assert.Equal("3", second.NodePlanFor(n.Name).HomeSubMesh));
        Assert.All(joining, n => Assert.True(second.IsPlaced(second.IndexOf(n.Name))));
    }

    [Fact]
    public void Plan_NewNodeInALeafWithGaps_TakesTheLowestFreePrefix()
    {
        var layout = Order2 with { Order = 1, SubMeshes = [] };
        var nodes = Names(0, 6);
        var first = MeshPlanner.Plan(layout, nodes, null, false, new Xoshiro256StarStar(1));
        var slot0 = nodes.Single(n => first.SlotOf(first.IndexOf(n.Name)) == 0);
        var slot3 = nodes.Single(n => first.SlotOf(first.IndexOf(n.Name)) == 3);
        var second = MeshPlanner.Plan(layout, [.. nodes.Except([slot0, slot3]), .. Names(100, 3)], first.ToState(), false, new Xoshiro256StarStar(2));
        Assert.Equal([0L, 3L, 6L], Names(100, 3).Select(n => second.SlotOf(second.IndexOf(n.Name))).Order());
        Assert.Equal("fd5e:6e7::/64", second.Ipv6PrefixOf(second.IndexOf(Names(100, 3).First(n => second.SlotOf(second.IndexOf(n.Name)) == 0).Name)).ToString());
    }

    [Fact]
    public void Plan_PreviousLeafMissingFromTheLayout_RenumbersWithANote()
    {
        var nodes = Names(0, 64);
        var first = MeshPlanner.Plan(Order2, nodes, null, false, new Xoshiro256StarStar(3));
        var smaller = Order2 with { SubMeshes = [4] };
        var second = MeshPlanner.Plan(smaller, nodes, first.ToState(), false, new Xoshiro256StarStar(4));
        var before = first.ToState().Nodes;
        var after = second.ToState().Nodes;
        Assert.Empty(second.Errors);
        Assert.Equal(nodes.Count, after.Count);
        foreach (var n in nodes)
        {
            var old = before[n.Name];
            var kept = old == after[n.Name];
            var noted = second.Notes.Any(note => note.StartsWith($"node {n.Name} renumbered: ", StringComparison.Ordinal));
            Assert.True(kept != noted, $"{n.Name}: kept {kept}, noted {noted}");
            if (int.Parse(old.SubMesh, System.Globalization.CultureInfo.InvariantCulture) >= 4)
            {
                Assert.Contains($"node {n.Name} renumbered: sub-mesh {old.SubMesh} is not in the current layout", second.Notes);
            }
        }

        // Leaf "0" starts the range in both layouts, so its nodes' prefixes are still inside it and are kept.
        Assert.All(nodes.Where(n => before[n.Name].SubMesh == "0"), n => Assert.Equal(before[n.Name], after[n.Name]));
        AssertAddressesSound(second);
    }

    [Fact]
    public void Plan_NodePrefixLengthChanged_RenumbersEveryNodeWithANote()
    {
        var nodes = Names(0, 20);
        var first = MeshPlanner.Plan(Order2, nodes, null, false, new Xoshiro256StarStar(5));
        var second = MeshPlanner.Plan(Order2 with { Ipv6NodePrefixLength = 80 }, nodes, first.ToState(), false, new Xoshiro256StarStar(6));
        Assert.All(nodes, n => Assert.Contains(second.Notes, note => note.StartsWith($"node {n.Name} renumbered: ", StringComparison.Ordinal) && note.Contains("is not a /80", StringComparison.Ordinal)));
        Assert.All(Enumerable.Range(0, nodes.Count), i => Assert.Equal(80, second.Ipv6PrefixOf(i).Length));
        AssertAddressesSound(second);
    }

    [Fact]
    public void Plan_Ipv4RangeChanged_KeepsIpv6AndMovesIpv4WithANote()
    {
        var nodes = Names(0, 20);
        var first = MeshPlanner.Plan(Order2, nodes, null, false, new Xoshiro256StarStar(7));
        var second = MeshPlanner.Plan(Order2 with { Ipv4Range = IpPrefix.Parse("10.43.0.0/16") }, nodes, first.ToState(), false, new Xoshiro256StarStar(8));
        var before = first.ToState().Nodes;
        foreach (var (name, allocation) in second.ToState().Nodes)
        {
            Assert.Equal(before[name].SubMesh, allocation.SubMesh);
            Assert.Equal(before[name].Ipv6Prefix, allocation.Ipv6Prefix);
            Assert.True(IpPrefix.Parse("10.43.0.0/16").Contains(allocation.Ipv4Prefix!.Value));
            Assert.Contains($"node {name}: IPv4 prefix {before[name].Ipv4Prefix} replaced to follow its IPv6 slot", second.Notes);
        }
    }

    [Fact]
    public void Plan_TwoNodesClaimingOnePrefix_KeepsOneAndRenumbersTheOther()
    {
        var layout = Order2 with { Order = 1, SubMeshes = [] };
        var prefix = IpPrefix.Parse("fd5e:6e7:0:5::/64");
        var previous = new PlanState
        {
            Nodes = new Dictionary<string, NodeAllocation>
            {
                ["a"] = new("root", prefix, null),
                ["b"] = new("root", prefix, null),
            },
        };
        var plan = MeshPlanner.Plan(layout, [NodeInfo.Named("b"), NodeInfo.Named("a")], previous, false, new Xoshiro256StarStar(9));
        Assert.Equal(prefix, plan.NodePlanFor("a").Ipv6Prefix);
        Assert.NotEqual(prefix, plan.NodePlanFor("b").Ipv6Prefix);
        Assert.Equal(["node b renumbered: fd5e:6e7:0:5::/64 is also held by another node"], plan.Notes);
    }

    [Fact]
    public void Plan_PreviousPrefixOutsideItsLeaf_IsRenumbered()
    {
        var previous = new PlanState
        {
            Nodes = new Dictionary<string, NodeAllocation>
            {
                ["a"] = new("2", IpPrefix.Parse("fd5e:6e7:1::/64"), null),
                ["b"] = new("nowhere", IpPrefix.Parse("fd5e:6e7:4000::/64"), null),
            },
        };
        var plan = MeshPlanner.Plan(Order2, [NodeInfo.Named("a"), NodeInfo.Named("b")], previous, false, new Xoshiro256StarStar(10));
        Assert.Contains(plan.Notes, n => n.StartsWith("node a renumbered: fd5e:6e7:1::/64 is not a /64 inside sub-mesh 2", StringComparison.Ordinal));
        Assert.Contains("node b renumbered: sub-mesh nowhere is not in the current layout", plan.Notes);
        AssertAddressesSound(plan);
    }

    [Fact]
    public void Plan_MoreNodesThanTheRangeHolds_PlacesWhatFitsAndSaysExhausted()
    {
        // fd00::/120 in /124s: 16 node prefixes.
        var layout = new MeshLayout { Ipv6Range = IpPrefix.Parse("fd00::/120"), Ipv6NodePrefixLength = 124 };
        var nodes = Names(0, 20);
        var plan = MeshPlanner.Plan(layout, nodes, null, false, new Xoshiro256StarStar(11));
        var error = Assert.Single(plan.Errors);
        Assert.Contains("exhausted", error, StringComparison.Ordinal);
        Assert.Contains("4 of 20 nodes have no prefix", error, StringComparison.Ordinal);
        Assert.Equal(16, Enumerable.Range(0, 20).Count(plan.IsPlaced));
        Assert.Equal(16, plan.ToState().Nodes.Count);
        var unplaced = Enumerable.Range(0, 20).Where(i => !plan.IsPlaced(i)).ToArray();
        Assert.All(unplaced, i => Assert.Equal(-1, plan.HomeOf(i)));
        Assert.All(unplaced, i => Assert.Empty(plan.MembershipsOf(i)));
        Assert.Throws<InvalidOperationException>(() => plan.NodePlanFor(unplaced[0]));
        AssertAddressesSound(plan);
    }

    [Fact]
    public void Plan_RangeFullWithPreviousNodes_KeepsThemAndLeavesNewcomersOut()
    {
        // 10.0.0.0/29 holds 8 /32s, fewer than the IPv6 side: IPv4 is the limit.
        var layout = new MeshLayout { Ipv6Range = IpPrefix.Parse("fd00::/48"), Ipv4Range = IpPrefix.Parse("10.0.0.0/29"), Order = 2, SubMeshes = [2] };
        var first = MeshPlanner.Plan(layout, Names(0, 8), null, false, new Xoshiro256StarStar(12));
        Assert.Empty(first.Errors);
        var second = MeshPlanner.Plan(layout, [.. Names(100, 3), .. Names(0, 8)], first.ToState(), false, new Xoshiro256StarStar(13));
        Assert.Contains("3 of 11 nodes have no prefix", Assert.Single(second.Errors), StringComparison.Ordinal);
        Assert.All(Names(100, 3), n => Assert.False(second.IsPlaced(second.IndexOf(n.Name))));
        Assert.Equal(first.ToState().Nodes, second.ToState().Nodes);
    }

    [Fact]
    public void Plan_DuplicateNodeNames_Throw()
    {
        NodeInfo[] nodes = [NodeInfo.Named("a"), NodeInfo.Named("b"), NodeInfo.Named("a")];
        var e = Assert.Throws<ArgumentException>(() => MeshPlanner.Plan(Order2, nodes, null, false, new Xoshiro256StarStar(1)));
        Assert.Contains("'a'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public void Plan_SameSeedAndInputs_SameState(int order)
    {
        var layout = LayoutOfOrder(order);
        var nodes = Names(0, 300);
        var first = MeshPlanner.Plan(layout, nodes, null, false, new Xoshiro256StarStar(14));
        var a = MeshPlanner.Plan(layout, [.. nodes, .. Names(900, 30)], first.ToState(), true, new Xoshiro256StarStar(15));
        var b = MeshPlanner.Plan(layout, [.. nodes, .. Names(900, 30)], first.ToState(), true, new Xoshiro256StarStar(15));
        var c = MeshPlanner.Plan(layout, [.. nodes, .. Names(900, 30)], first.ToState(), true, new Xoshiro256StarStar(16));
        Assert.Equal(Describe(a.ToState()), Describe(b.ToState()));
        Assert.NotEqual(Describe(a.ToState()), Describe(c.ToState()));
    }

    private static MeshLayout LayoutOfOrder(int order) => order switch
    {
        1 => Order2 with { Order = 1, SubMeshes = [] },
        2 => Order2,
        _ => Order3,
    };

    private static List<NodeInfo> Names(int first, int count) =>
        [.. Enumerable.Range(first, count).Select(i => NodeInfo.Named($"node-{i:D5}"))];

    private static string Describe(PlanState state) =>
        string.Join("\n", state.Nodes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")) + "\n"
        + string.Join("\n", state.Bridges.Select(b => b.ToString()).Order(StringComparer.Ordinal));

    /// <summary>No shared prefix; each prefix inside its leaf's range, each leaf inside the mesh range; both families.</summary>
    private static void AssertAddressesSound(MeshPlan plan)
    {
        var v6 = new HashSet<IpPrefix>();
        var v4 = new HashSet<IpPrefix>();
        var layout = plan.Layout;
        for (var i = 0; i < plan.NodeCount; i++)
        {
            if (!plan.IsPlaced(i))
            {
                continue;
            }

            var leaf = plan.HomeOf(i);
            Assert.True(plan.Tree.IsLeaf(leaf));
            var prefix = plan.Ipv6PrefixOf(i);
            Assert.Equal(layout.Ipv6NodePrefixLength, prefix.Length);
            Assert.True(v6.Add(prefix), $"{prefix} is held twice");
            Assert.True(plan.Tree.Ipv6RangeOf(leaf).Contains(prefix), $"{prefix} is outside its leaf {plan.Tree.Ipv6RangeOf(leaf)}");
            Assert.True(layout.Ipv6Range.Contains(plan.Tree.Ipv6RangeOf(leaf)));
            if (layout.Ipv4Range is { } range)
            {
                var p4 = plan.Ipv4PrefixOf(i)!.Value;
                Assert.Equal(layout.Ipv4NodePrefixLength, p4.Length);
                Assert.True(v4.Add(p4), $"{p4} is held twice");
                Assert.True(plan.Tree.Ipv4RangeOf(leaf)!.Value.Contains(p4), $"{p4} is outside its leaf {plan.Tree.Ipv4RangeOf(leaf)}");
                Assert.True(range.Contains(plan.Tree.Ipv4RangeOf(leaf)!.Value));
            }
            else
            {
                Assert.Null(plan.Ipv4PrefixOf(i));
            }
        }

        // Leaves of one level never overlap.
        var leaves = Enumerable.Range(plan.Tree.FirstLeaf, plan.Tree.LeafCount).Select(plan.Tree.Ipv6RangeOf).ToArray();
        for (var a = 0; a < leaves.Length; a++)
        {
            for (var b = a + 1; b < leaves.Length; b++)
            {
                Assert.False(leaves[a].Overlaps(leaves[b]), $"leaves {leaves[a]} and {leaves[b]} overlap");
            }
        }
    }
}
