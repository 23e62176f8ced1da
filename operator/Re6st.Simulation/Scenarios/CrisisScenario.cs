using Re6st.Core.Planning;
using Re6st.Core.Randomness;

namespace Re6st.Simulation.Scenarios;

/// <summary>
/// Crises that hit regions (a label the policy never reads): the random mesh against the
/// region-grouped mesh built from the same nodes.
/// </summary>
public static class CrisisScenario
{
    public static CrisisStats Run(MeshPlan plan, SimMesh mesh, SimMesh grouped, int[] region, SimOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(grouped);
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(options);
        var regions = region.Max() + 1;
        var bySize = Enumerable.Range(0, regions).OrderByDescending(r => region.Count(x => x == r)).ToArray();
        var cases = new List<CrisisCase>();
        var random = Xoshiro256StarStar.ForStream(options.Seed, 0x637269736973);

        if (regions >= 2)
        {
            var (a, b) = (bySize[0], bySize[1]);
            var cut = Failures.Cut(region, a, b);
            var groups = PairSampler.Sample(plan.NodeCount, options.ScenarioPairs, 20, random);
            cases.Add(new CrisisCase(
                "regionCut",
                $"the Internet between {SimNodes.RegionNames[a]} and {SimNodes.RegionNames[b]} is cut (every arrow with one end in each stops working)",
                StretchScenario.Round(Reachability.RoutedShare(plan, mesh.Graph, cut, groups)),
                StretchScenario.Round(GraphAlgorithms.ConnectedShare(grouped.Graph, cut))));
        }

        {
            var r = bySize[0];
            var inRegion = Enumerable.Range(0, region.Length).Where(i => region[i] == r).ToArray();
            var count = Math.Max(2, (int)Math.Round(inRegion.Length * 0.02));
            var randomDead = BestConnected(mesh, inRegion, count);
            var groupedDead = BestConnected(grouped, inRegion, count);
            var failures = Failures.Kill(randomDead);
            var groups = PairSampler.Sample(plan.NodeCount, options.ScenarioPairs, 20, random, failures.IsAlive);
            cases.Add(new CrisisCase(
                "bestConnectedLost",
                $"the {count} best-connected hosts of {SimNodes.RegionNames[r]} (2 %) fail",
                StretchScenario.Round(Reachability.RoutedShare(plan, mesh.Graph, failures, groups)),
                StretchScenario.Round(GraphAlgorithms.ConnectedShare(grouped.Graph, Failures.Kill(groupedDead)))));
        }

        return new CrisisStats(cases.Min(c => c.Random), cases.Min(c => c.Grouped), cases);
    }

    private static bool[] BestConnected(SimMesh mesh, int[] candidates, int count)
    {
        var dead = new bool[mesh.NodeCount];
        foreach (var i in candidates.OrderByDescending(mesh.Graph.DegreeOf).ThenBy(i => i).Take(count))
        {
            dead[i] = true;
        }

        return dead;
    }
}
