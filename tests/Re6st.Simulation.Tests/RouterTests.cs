using Re6st.Core.Planning;
using Re6st.Core.Randomness;
using Re6st.Simulation.Routing;

namespace Re6st.Simulation.Tests;

public sealed class RouterTests
{
    private static (MeshPlan Plan, SimMesh Mesh) Build(int nodes, int order, ulong seed)
    {
        var (infos, _) = SimNodes.Generate(nodes, 4, seed);
        var plan = MeshPlanner.Plan(Simulator.LayoutFor(nodes, order), infos, null, false, new Xoshiro256StarStar(seed));
        return (plan, SimMesh.ForPlan(plan, SimNodes.Policy(6), seed));
    }

    [Fact]
    public void Order1_RoutedHops_EqualShortestPaths()
    {
        var (plan, mesh) = Build(600, 1, 3);
        using var router = new Router(plan, mesh.Graph, Failures.None);
        for (var s = 0; s < 600; s += 37)
        {
            var dist = GraphAlgorithms.Distances(mesh.Graph, s, Failures.None);
            for (var t = 0; t < 600; t += 11)
            {
                Assert.Equal(dist[t], router.Hops(s, t));
            }
        }
    }

    [Theory]
    [InlineData(2, 2000)]
    [InlineData(3, 4000)]
    public void NOrder_EveryPairIsRouted_NeverShorterThanTheShortestPath(int order, int nodes)
    {
        var (plan, mesh) = Build(nodes, order, 5);
        using var router = new Router(plan, mesh.Graph, Failures.None);
        var random = new Xoshiro256StarStar(9);
        for (var k = 0; k < 40; k++)
        {
            var s = random.NextInt(nodes);
            var dist = GraphAlgorithms.Distances(mesh.Graph, s, Failures.None);
            for (var j = 0; j < 25; j++)
            {
                var t = random.NextInt(nodes);
                var hops = router.Hops(s, t);
                Assert.True(hops >= 0, $"{s} -> {t} unreachable");
                Assert.True(hops >= dist[t], $"{s} -> {t}: routed {hops} < shortest {dist[t]}");
            }
        }
    }

    [Fact]
    public void DeadDestination_IsUnreachable_AndDeadNodesAreAvoided()
    {
        var (plan, mesh) = Build(1500, 2, 7);
        var dead = new bool[1500];
        for (var i = 0; i < 1500; i += 10)
        {
            dead[i] = true;
        }

        using var router = new Router(plan, mesh.Graph, Failures.Kill(dead));
        Assert.Equal(-1, router.Hops(1, 10));
        Assert.Equal(-1, router.Hops(10, 1));
        var reached = 0;
        for (var t = 1; t < 1500; t += 7)
        {
            reached += router.Hops(3, t) >= 0 ? 1 : 0;
        }

        Assert.True(reached > 180, $"only {reached} of ~190 live destinations reached with 10 % of nodes dead");
    }

    [Fact]
    public void IsolatedSubMesh_CannotBeReached_FromOutside_ButWorksInside()
    {
        var (plan, mesh) = Build(900, 2, 11);
        var target = Enumerable.Range(0, 900).First(i => plan.MembershipCount(i) == 1);
        var leaf = plan.HomeOf(target);

        // Every bridge with a membership in the target's sub-mesh dies: nothing joins it to the rest.
        var dead = new bool[900];
        foreach (var b in plan.Bridges)
        {
            if (plan.HomeOf(b.Node) == leaf || b.Target == leaf)
            {
                dead[b.Node] = true;
            }
        }

        using var router = new Router(plan, mesh.Graph, Failures.Kill(dead));
        var outsider = Enumerable.Range(0, 900).First(i => plan.HomeOf(i) != leaf && !dead[i]);
        Assert.Equal(-1, router.Hops(outsider, target));
        Assert.Equal(-1, router.Hops(target, outsider));
        var insider = Enumerable.Range(0, 900).First(i => i != target && plan.HomeOf(i) == leaf && !dead[i]);
        Assert.True(router.Hops(insider, target) > 0, "inside its own sub-mesh a node stays reachable");
    }

    [Fact]
    public void AllPairsMean_MatchesBfsFromEverySource()
    {
        var (_, mesh) = Build(700, 1, 13);
        double sum = 0;
        double pairs = 0;
        for (var s = 0; s < 700; s++)
        {
            foreach (var d in GraphAlgorithms.Distances(mesh.Graph, s, Failures.None))
            {
                if (d > 0)
                {
                    sum += d;
                    pairs++;
                }
            }
        }

        var (mean, reached) = GraphAlgorithms.AllPairsMeanDistance(mesh.Graph);
        Assert.Equal(pairs, reached);
        Assert.Equal(sum / pairs, mean, 9);
    }

    [Fact]
    public void ConnectedShare_CountsPairsInsideComponents()
    {
        // Two triangles and an isolated node: 2·(3·2) ordered pairs connected out of 7·6.
        var arrows = new[] { (0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3) }
            .Select(a => new Arrow(a.Item1, a.Item2, 0)).ToList();
        var graph = ArrowGraph.Build(7, arrows);
        Assert.Equal(12.0 / 42.0, GraphAlgorithms.ConnectedShare(graph, Failures.None), 12);
        var dead = new bool[7];
        dead[0] = true;
        Assert.Equal((2.0 + 6.0) / 30.0, GraphAlgorithms.ConnectedShare(graph, Failures.Kill(dead)), 12);
    }
}
