using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Randomness;

namespace Re6st.Core.Tests;

public sealed class BridgeElectionTests
{
    private static readonly MeshLayout Base = new() { Ipv6Range = IpPrefix.Parse("fd5e:6e7::/48") };

    public static TheoryData<int, int[], int, int> Layouts => new()
    {
        { 2, [10], 500, 2 },
        { 2, [10], 100, 2 },
        { 2, [10], 15, 3 },
        { 2, [7], 2_000, 2 },
        { 3, [4, 5], 600, 2 },
        { 3, [3, 3], 50, 2 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Plan_EverySubMesh_ElectsItsBridgeShareButAtLeastMinBridges(int order, int[] subMeshes, int nodes, int minBridges)
    {
        var layout = Base with { Order = order, SubMeshes = subMeshes, MinBridges = minBridges };
        for (var seed = 0UL; seed < 10; seed++)
        {
            var plan = MeshPlanner.Plan(layout, Names(nodes), null, false, new Xoshiro256StarStar(seed));
            var tree = plan.Tree;
            for (var level = 1; level < order; level++)
            {
                for (var x = tree.FirstOfLevel(level); x < tree.FirstOfLevel(level) + tree.CountOfLevel(level); x++)
                {
                    var size = plan.CountUnder(x);
                    var elected = plan.Bridges.Where(b => b.Level == level && b.Reason != BridgeReason.ConnectSplit && tree.AncestorAt(plan.HomeOf(b.Node), level) == x).ToList();
                    var siblings = NonEmptyChildren(plan, tree.ParentOf(x)).Count;
                    var want = size == 0 || siblings < 2 ? 0 : Math.Min(size, Math.Max(minBridges, (int)Math.Round(layout.BridgeShare * size, MidpointRounding.AwayFromZero)));
                    Assert.True(want == elected.Count, $"seed {seed}, sub-mesh {tree.IdOf(x)} of {size} nodes: {elected.Count} bridges, expected {want}");
                    Assert.Equal(elected.Count, elected.Select(b => b.Node).Distinct().Count());
                    Assert.All(elected, b => Assert.Equal(BridgeReason.Elected, b.Reason));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Plan_EveryBridge_JoinsALeafOfASiblingSubMesh(int order, int[] subMeshes, int nodes, int minBridges)
    {
        var layout = Base with { Order = order, SubMeshes = subMeshes, MinBridges = minBridges };
        for (var seed = 0UL; seed < 10; seed++)
        {
            var plan = MeshPlanner.Plan(layout, Names(nodes), null, false, new Xoshiro256StarStar(seed));
            var tree = plan.Tree;
            Assert.NotEmpty(plan.Bridges);
            foreach (var b in plan.Bridges)
            {
                Assert.InRange(b.Level, 1, order - 1);
                Assert.True(tree.IsLeaf(b.Target), $"bridge target {b.Target} is not a leaf");
                Assert.True(plan.HomeMembers(b.Target).Length > 0, $"bridge target {tree.IdOf(b.Target)} is empty");
                var x = tree.AncestorAt(plan.HomeOf(b.Node), b.Level);
                var y = tree.AncestorAt(b.Target, b.Level);
                Assert.NotEqual(x, y);
                Assert.Equal(tree.ParentOf(x), tree.ParentOf(y));
                Assert.Contains(b.Target, plan.MembershipsOf(b.Node));
                Assert.Contains(b.Node, plan.MembersOf(b.Target));
            }
        }
    }

    [Fact]
    public void Plan_SmallMeshes_AlwaysJoinEverySiblingThroughBridges()
    {
        // One bridge per sub-mesh towards a random sibling often leaves groups apart: the split repair must join them.
        var layout = Base with { Order = 3, SubMeshes = [6, 6], MinBridges = 1, BridgeShare = 0.01 };
        var repairs = 0;
        for (var seed = 0UL; seed < 100; seed++)
        {
            var plan = MeshPlanner.Plan(layout, Names(72), null, false, new Xoshiro256StarStar(seed));
            var tree = plan.Tree;
            repairs += plan.Bridges.Count(b => b.Reason == BridgeReason.ConnectSplit);
            for (var level = 1; level < tree.Order; level++)
            {
                for (var p = tree.FirstOfLevel(level - 1); p < tree.FirstOfLevel(level - 1) + tree.CountOfLevel(level - 1); p++)
                {
                    var children = NonEmptyChildren(plan, p);
                    var group = children.ToDictionary(c => c, c => c);
                    int Find(int c) => group[c] == c ? c : Find(group[c]);
                    foreach (var b in plan.Bridges.Where(b => b.Level == level && tree.ParentOf(tree.AncestorAt(b.Target, level)) == p))
                    {
                        group[Find(tree.AncestorAt(plan.HomeOf(b.Node), level))] = Find(tree.AncestorAt(b.Target, level));
                    }

                    Assert.True(children.Select(Find).Distinct().Count() == 1, $"seed {seed}: children of {tree.IdOf(p)} are split");
                }
            }
        }

        Assert.True(repairs > 0, "no seed needed the split repair, so this test did not exercise it");
    }

    [Fact]
    public void Plan_CapacityWeighting_ElectsInProportionToCapacity()
    {
        // One bridge per sub-mesh, so a node's chance is exactly its capacity over its sub-mesh's total.
        var layout = Base with { Order = 2, SubMeshes = [4], MinBridges = 1, BridgeShare = 0.01 };
        var nodes = Enumerable.Range(0, 40).Select(i => new NodeInfo($"n{i:D2}", NodeInfo.NoLabels, CapacityOf(i))).ToArray();
        var heavy = 0L;
        var light = 0L;
        var expectedHeavy = 0.0;
        var expectedLight = 0.0;
        var variance = 0.0;
        for (var seed = 0UL; seed < 2_000; seed++)
        {
            var plan = MeshPlanner.Plan(layout, nodes, null, false, new Xoshiro256StarStar(seed));
            for (var leaf = plan.Tree.FirstLeaf; leaf < plan.Tree.Count; leaf++)
            {
                var members = plan.HomeMembers(leaf).ToArray();
                var total = members.Sum(m => nodes[m].Capacity);
                var p = members.Where(m => nodes[m].Capacity == 4).Sum(m => nodes[m].Capacity) / total;
                expectedHeavy += p;
                expectedLight += members.Count(m => nodes[m].Capacity == 1) / total;
                variance += p * (1 - p);
                var elected = Assert.Single(plan.Bridges, b => b.Reason == BridgeReason.Elected && plan.HomeOf(b.Node) == leaf);
                Assert.NotEqual(0, nodes[elected.Node].Capacity);
                heavy += nodes[elected.Node].Capacity == 4 ? 1 : 0;
                light += nodes[elected.Node].Capacity == 1 ? 1 : 0;
            }
        }

        // Heavy or light is one Bernoulli draw per sub-mesh, of probability (capacity 4 total) / (sub-mesh total).
        Statistics.AssertCount(heavy, expectedHeavy, variance, "bridges of capacity 4");
        Assert.Equal(2_000 * 4, heavy + light);

        // Per node (8 heavy, 28 light) a heavy one is elected between 3 and 4 times as often as a
        // light one: 4 times within one sub-mesh, a little less overall because a heavy node's own
        // capacity makes its sub-mesh's total larger.
        // The observed ratio moves with the heavy count h (light = total - h): its relative standard
        // deviation is sd(h) × (1/h + 1/light), and it may stray 5 of those.
        var expectedRatio = expectedHeavy / 8 / (expectedLight / 28);
        Assert.InRange(expectedRatio, 3, 4);
        var relative = Statistics.Sigmas * Math.Sqrt(variance) * ((1.0 / heavy) + (1.0 / light));
        Assert.InRange(heavy / 8.0 / (light / 28.0), expectedRatio * (1 - relative), expectedRatio * (1 + relative));
    }

    [Fact]
    public void Plan_NodeOfCapacityZero_IsNeverABridge()
    {
        var layout = Base with { Order = 2, SubMeshes = [4], MinBridges = 1, BridgeShare = 0.01 };
        var nodes = Enumerable.Range(0, 40).Select(i => new NodeInfo($"n{i:D2}", NodeInfo.NoLabels, CapacityOf(i))).ToArray();
        var repairs = 0;
        for (var seed = 0UL; seed < 3_000; seed++)
        {
            var plan = MeshPlanner.Plan(layout, nodes, null, false, new Xoshiro256StarStar(seed));
            repairs += plan.Bridges.Count(b => b.Reason == BridgeReason.ConnectSplit);
            foreach (var b in plan.Bridges)
            {
                Assert.True(nodes[b.Node].Capacity > 0, $"seed {seed}: {nodes[b.Node].Name} (capacity 0) is a bridge ({b.Reason})");
            }
        }

        Assert.True(repairs > 0, "no seed needed the split repair, so this test did not exercise it");
    }

    [Fact]
    public void Plan_Reelection_ReplacesTheRenewShareOfBridges()
    {
        var layout = Base with { Order = 2, SubMeshes = [10] };
        var nodes = Names(500);
        var sitting = 0L;
        var kept = 0L;
        for (var seed = 0UL; seed < 200; seed++)
        {
            var first = MeshPlanner.Plan(layout, nodes, null, false, Xoshiro256StarStar.ForStream(seed, 1));
            Assert.DoesNotContain(first.Bridges, b => b.Reason == BridgeReason.ConnectSplit);
            var second = MeshPlanner.Plan(layout, nodes, first.ToState(), true, Xoshiro256StarStar.ForStream(seed, 2));
            Assert.Equal(first.Bridges.Count, second.Bridges.Count);
            var before = first.ToState().Bridges.ToHashSet();
            var stayed = second.Bridges.Where(b => b.Reason == BridgeReason.Kept).ToList();
            Assert.All(stayed, b => Assert.Contains(new BridgeAssignment(nodes[b.Node].Name, b.Level, second.Tree.IdOf(b.Target)), before));
            sitting += first.Bridges.Count;
            kept += stayed.Count;
        }

        // Each sitting bridge steps down independently with probability bridgeRenewShare.
        Statistics.AssertProportion(sitting - kept, sitting, layout.BridgeRenewShare, "bridges replaced at re-election");
    }

    [Fact]
    public void Plan_WithoutReelection_KeepsEveryBridge()
    {
        var layout = Base with { Order = 3, SubMeshes = [4, 4] };
        var first = MeshPlanner.Plan(layout, Names(300), null, false, new Xoshiro256StarStar(1));
        var second = MeshPlanner.Plan(layout, Names(300), first.ToState(), false, new Xoshiro256StarStar(2));
        Assert.Equal(first.ToState().Bridges.ToHashSet(), second.ToState().Bridges.ToHashSet());
        Assert.All(second.Bridges, b => Assert.Equal(BridgeReason.Kept, b.Reason));
    }

    [Fact]
    public void Plan_JoinsWithoutReelection_KeepEveryBridgeAndElectMoreWhereTheShareGrew()
    {
        var layout = Base with { Order = 2, SubMeshes = [4] };
        var first = MeshPlanner.Plan(layout, Names(200), null, false, new Xoshiro256StarStar(3));
        var second = MeshPlanner.Plan(layout, Names(400), first.ToState(), false, new Xoshiro256StarStar(4));
        Assert.Subset(second.ToState().Bridges.ToHashSet(), first.ToState().Bridges.ToHashSet());

        // 50 then 100 nodes per sub-mesh: 5 then 10 bridges each.
        Assert.Equal(20, first.Bridges.Count);
        Assert.Equal(40, second.Bridges.Count);
        Assert.Equal(20, second.Bridges.Count(b => b.Reason == BridgeReason.Elected));
    }

    [Fact]
    public void Plan_BridgeNodeLeaves_IsReplaced()
    {
        var layout = Base with { Order = 2, SubMeshes = [4] };
        var nodes = Names(200);
        var first = MeshPlanner.Plan(layout, nodes, null, false, new Xoshiro256StarStar(5));
        var gone = first.Nodes[first.Bridges[0].Node].Name;
        var second = MeshPlanner.Plan(layout, [.. nodes.Where(n => n.Name != gone)], first.ToState(), false, new Xoshiro256StarStar(6));
        Assert.Equal(first.Bridges.Count, second.Bridges.Count);
        Assert.Single(second.Bridges, b => b.Reason == BridgeReason.Elected);
        Assert.DoesNotContain(second.ToState().Bridges, b => b.Node == gone);
    }

    [Fact]
    public void Plan_DifferentLabels_SameAssignmentAndBridges()
    {
        var layout = Base with { Order = 3, SubMeshes = [4, 4] };
        string[] regions = ["eu-west", "us-east", "ap-south"];
        var plain = Names(200);
        var labelled = plain.Select((n, i) => n with { Labels = new Dictionary<string, string> { ["topology.kubernetes.io/region"] = regions[i % 3], ["provider"] = i < 100 ? "a" : "b" } }).ToList();
        var a = MeshPlanner.Plan(layout, plain, null, false, new Xoshiro256StarStar(7)).ToState();
        var b = MeshPlanner.Plan(layout, labelled, null, false, new Xoshiro256StarStar(7)).ToState();
        Assert.Equal(a.Nodes, b.Nodes);
        Assert.Equal(a.Bridges, b.Bridges);
    }

    [Fact]
    public void Plan_DifferentCapacities_SameAssignment()
    {
        var layout = Base with { Order = 2, SubMeshes = [8] };
        var plain = Names(200);
        var weighted = plain.Select((n, i) => n with { Capacity = CapacityOf(i) }).ToList();
        var a = MeshPlanner.Plan(layout, plain, null, false, new Xoshiro256StarStar(8)).ToState();
        var b = MeshPlanner.Plan(layout, weighted, null, false, new Xoshiro256StarStar(8)).ToState();
        Assert.Equal(a.Nodes, b.Nodes);
    }

    [Fact]
    public void Plan_OrderOne_HasNoBridges() =>
        Assert.Empty(MeshPlanner.Plan(Base, Names(100), null, true, new Xoshiro256StarStar(9)).Bridges);

    private static double CapacityOf(int i) => (i % 10) switch
    {
        0 or 5 => 4,
        1 => 0,
        _ => 1,
    };

    private static List<NodeInfo> Names(int count) => [.. Enumerable.Range(0, count).Select(i => NodeInfo.Named($"node-{i:D5}"))];

    private static List<int> NonEmptyChildren(MeshPlan plan, int subMesh)
    {
        var (first, count) = plan.Tree.ChildrenOf(subMesh);
        return [.. Enumerable.Range(first, count).Where(c => plan.CountUnder(c) > 0)];
    }
}
