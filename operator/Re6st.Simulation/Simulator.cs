using System.Diagnostics;
using Re6st.Core.Addressing;
using Re6st.Core.Planning;
using Re6st.Core.Randomness;
using Re6st.Simulation.Routing;
using Re6st.Simulation.Scenarios;

namespace Re6st.Simulation;

/// <summary>Builds a mesh of N nodes with the core's planner and policy, then measures it.</summary>
public static class Simulator
{
    /// <summary>The simulator's range: large enough for a million /64 node prefixes at any order.</summary>
    public static readonly IpPrefix SimRange = IpPrefix.Parse("fd5e::/24");

    public static MeshLayout LayoutFor(int nodes, int order) => new()
    {
        Ipv6Range = SimRange,
        Ipv6NodePrefixLength = 64,
        Order = order,
        SubMeshes = MeshLayout.SuggestSubMeshes(nodes, order),
    };

    public static SimReport Run(SimOptions options, ProgressLog log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (options.Nodes < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "--nodes must be at least 2");
        }

        var notes = new List<string>();
        var policy = SimNodes.Policy(options.Arrows);

        log.Step($"generating {options.Nodes:N0} hosts in {options.Regions} regions");
        var (nodes, region) = SimNodes.Generate(options.Nodes, options.Regions, options.Seed);

        var layout = LayoutFor(options.Nodes, options.Order);
        log.Step($"planning order {options.Order} ({(layout.Order == 1 ? "one mesh" : string.Join(" x ", layout.SubMeshes) + " sub-meshes")})");
        var plan = MeshPlanner.Plan(layout, nodes, null, false, Xoshiro256StarStar.ForStream(options.Seed, 0x706c616e));
        notes.AddRange(plan.Notes);
        if (plan.Errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", plan.Errors));
        }

        log.Step($"drawing arrows ({options.Arrows} per node and membership)");
        var mesh = SimMesh.ForPlan(plan, policy, options.Seed);
        _ = mesh.Graph;

        log.Step("routing tables");
        var routes = RouteStatsFor(plan, mesh, options, notes);

        SimMesh? flat;
        if (options.Order == 1)
        {
            flat = mesh;
        }
        else
        {
            log.Step("drawing the flat comparison mesh");
            flat = SimMesh.Flat(nodes, policy, options.Seed).Freeze();
        }

        log.Step($"stretch on {options.Pairs} sampled pairs");
        var (stretch, distance) = StretchScenario.Run(plan, mesh, flat, options, log.For("stretch"));

        if (options.AllPairs)
        {
            log.Step($"exact distance over all {(double)options.Nodes * (options.Nodes - 1):N0} pairs");
            var (mean, pairs) = GraphAlgorithms.AllPairsMeanDistance(mesh.Graph, log.For("all pairs"));
            distance = distance with { Mean = Math.Round(mean, 4), Exact = true, Pairs = pairs };
        }

        log.Step($"resilience: random loss of {string.Join(", ", options.LossPercents)} % of nodes");
        var resilience = ResilienceScenario.Run(plan, mesh, flat, options);
        flat = null;

        log.Step("crises: region cut, best-connected hosts lost (against a region-grouped mesh)");
        var grouped = SimMesh.RegionGrouped(nodes, region, policy, options.Seed).Freeze();
        var crisis = CrisisScenario.Run(plan, mesh, grouped, region, options);
        grouped = null;

        log.Step($"churn: {options.ChurnPeriods} periods of the destruction policy");
        var churn = ChurnScenario.Run(plan, mesh, policy, options, log.For("churn"));
        if (churn.ForcedAfterMaxDrain == 0)
        {
            notes.Add("churn: drains are modelled as finishing within the period, so none is forced after maxDrain");
        }

        var report = new SimReport
        {
            Nodes = options.Nodes,
            Order = options.Order,
            Arrows = options.Arrows,
            Seed = options.Seed,
            SubMeshes = layout.SubMeshes,
            Regions = options.Regions,
            ArrowCount = mesh.ArrowCount,
            Bridges = plan.Bridges.Count,
            Routes = routes,
            Stretch = stretch,
            Distance = distance,
            Resilience = resilience,
            Crisis = crisis,
            Churn = churn,
            ElapsedSeconds = Math.Round(log.Elapsed, 2),
            PeakMemoryMB = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1),
            Notes = notes,
        };
        log.Step("done");
        return report;
    }

    private static RouteStats RouteStatsFor(MeshPlan plan, SimMesh mesh, SimOptions options, List<string> notes)
    {
        var model = new RoutingTableModel(plan);
        var modelCounts = model.EntryCounts();
        var counts = modelCounts;
        var method = "model";
        var mismatches = 0;
        IReadOnlyList<string> leaks = [];
        if (options.Nodes <= options.PropagateUpTo)
        {
            var propagated = RoutePropagation.Run(plan, mesh.Graph);
            counts = propagated.Counts;
            method = "propagated";
            leaks = propagated.Leaks;
            mismatches = Enumerable.Range(0, counts.Length).Count(i => counts[i] != modelCounts[i]);
        }

        var split = mesh.Parts.Count(p => !IsConnected(p));
        if (split > 0)
        {
            notes.Add($"{split} sub-mesh(es) are split inside: their members hold fewer routes than the model says");
        }

        var members = new List<int>();
        var bridges = new List<int>();
        for (var i = 0; i < counts.Length; i++)
        {
            (plan.MembershipCount(i) > 1 ? bridges : members).Add(counts[i]);
        }

        var all = Distribution.Of(counts);
        return new RouteStats(
            all.Mean,
            all.P50,
            all.P99,
            all.Max,
            Math.Round(RoutingTableModel.Theory(plan.NodeCount, plan.Tree.Order), 2),
            method,
            Distribution.Of(members),
            Distribution.Of(bridges),
            split,
            mismatches,
            leaks);
    }

    private static bool IsConnected(SubMeshArrows part)
    {
        if (part.Members.Length < 2)
        {
            return true;
        }

        var seen = new bool[part.Members.Length];
        var stack = new Stack<int>();
        var buffer = new int[part.MaxDegree];
        stack.Push(0);
        seen[0] = true;
        var count = 1;
        while (stack.Count > 0)
        {
            var n = part.CopyAdjacent(stack.Pop(), buffer);
            foreach (var v in buffer.AsSpan(0, n))
            {
                if (!seen[v])
                {
                    seen[v] = true;
                    count++;
                    stack.Push(v);
                }
            }
        }

        return count == part.Members.Length;
    }
}
