using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;
using Re6st.Simulation.Routing;

namespace Re6st.Simulation.Tests;

public sealed class RoutingModelTests
{
    private static readonly MeshLayout Base = new()
    {
        Ipv6Range = IpPrefix.Parse("fd5e:6e7::/48"),
        Ipv4Range = IpPrefix.Parse("10.0.0.0/8"),
    };

    [Theory]
    [InlineData(2, 3_000, IpFamily.V6)]
    [InlineData(2, 3_000, IpFamily.V4)]
    [InlineData(3, 8_000, IpFamily.V6)]
    public void Propagation_OverSimulatedArrows_MatchesTheModelWithoutLeaks(int order, int nodes, IpFamily family)
    {
        var plan = Plan(order, nodes, 1);
        var graph = SimMesh.ForPlan(plan, RandomizationPolicy.Default, 2).Graph;
        var result = RoutePropagation.Run(plan, graph, family);
        Assert.Empty(result.Leaks);
        var model = new RoutingTableModel(plan).EntryCounts();
        var differ = Enumerable.Range(0, nodes).Where(i => result.Counts[i] != model[i]).ToArray();
        Assert.True(differ.Length == 0, $"{differ.Length} nodes differ, e.g. {Describe(plan, differ, result.Counts, model)}");
    }

    [Fact]
    public void Propagation_SmallOrder3Mesh_GivesExactlyTheModelEntries()
    {
        var plan = Plan(3, 300, 3);
        var graph = SimMesh.ForPlan(plan, RandomizationPolicy.Default, 4).Graph;
        var result = RoutePropagation.Run(plan, graph, IpFamily.V6, keepTables: true);
        var model = new RoutingTableModel(plan);
        Assert.Empty(result.Leaks);
        for (var i = 0; i < plan.NodeCount; i++)
        {
            Assert.Equal(model.Entries(i), result.Tables![i].Order());
        }
    }

    [Fact]
    public void Propagation_OverACutArrowGraph_MissesPrefixesTheModelExpects()
    {
        // The check has teeth: with no arrow at all, every node holds only what it originates.
        var plan = Plan(2, 200, 5);
        var result = RoutePropagation.Run(plan, ArrowGraph.Build(plan.NodeCount, []), IpFamily.V6);
        var model = new RoutingTableModel(plan).EntryCounts();
        Assert.All(Enumerable.Range(0, plan.NodeCount), i => Assert.True(result.Counts[i] < model[i]));
    }

    [Fact]
    public void Order2_TenThousandNodes_MemberTablesHoldTheirSubMeshAndOneAggregatePerSibling()
    {
        const int Nodes = 10_000;
        var fanOut = MeshLayout.SuggestSubMeshes(Nodes, 2);
        Assert.Equal([100], fanOut);
        const int M = 100;
        const int S = Nodes / M;

        var plan = Plan(2, Nodes, 6);
        var graph = SimMesh.ForPlan(plan, RandomizationPolicy.Default, 7).Graph;
        var counts = RoutePropagation.Run(plan, graph, IpFamily.V6).Counts;
        var bridges = 0;
        for (var i = 0; i < Nodes; i++)
        {
            if (plan.MembershipCount(i) > 1)
            {
                bridges++;
                continue;
            }

            var home = plan.HomeMembers(plan.HomeOf(i)).Length;
            Assert.True(home + M - 1 == counts[i], $"{plan.Nodes[i].Name} holds {counts[i]} entries, expected {home} + {M - 1}");
        }

        // Fresh plans are balanced: 10,000 nodes fill 100 sub-meshes with exactly 100 each.
        Assert.All(Enumerable.Range(plan.Tree.FirstLeaf, M), l => Assert.Equal(S, plan.HomeMembers(l).Length));

        // Members hold S + M - 1 = 199 entries. The 10% of nodes that bridge (round(0.1 × 100) per
        // sub-mesh) hold 2S + M = 300, so the mean over every node sits about 5% above S + M - 1:
        // the members' mean is S + M - 1, and the overall mean is within 2% of the weighted figure.
        Assert.Equal(Nodes / 10, bridges);
        var members = Enumerable.Range(0, Nodes).Where(i => plan.MembershipCount(i) == 1).Select(i => counts[i]).ToArray();
        Assert.InRange(members.Average(), (S + M - 1) * 0.98, (S + M - 1) * 1.02);
        var weighted = ((Nodes - bridges) * (S + M - 1.0) + (bridges * (2.0 * S + M))) / Nodes;
        Assert.InRange(counts.Average(), weighted * 0.98, weighted * 1.02);
        Assert.InRange(counts.Where((_, i) => plan.MembershipCount(i) > 1).Average(), (2 * S + M) * 0.98, (2 * S + M) * 1.02);
    }

    private static MeshPlan Plan(int order, int nodes, ulong seed)
    {
        var layout = Base with { Order = order, SubMeshes = MeshLayout.SuggestSubMeshes(nodes, order) };
        var plan = MeshPlanner.Plan(layout, [.. Enumerable.Range(0, nodes).Select(i => NodeInfo.Named($"node-{i:D5}"))], null, false, new Xoshiro256StarStar(seed));
        Assert.Empty(plan.Errors);
        return plan;
    }

    private static string Describe(MeshPlan plan, int[] differ, int[] counts, int[] model) =>
        string.Join("; ", differ.Take(5).Select(i => $"{plan.Nodes[i].Name} ({plan.MembershipCount(i)} memberships): propagated {counts[i]}, model {model[i]}"));
}
