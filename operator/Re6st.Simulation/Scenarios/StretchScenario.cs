using Re6st.Core.Planning;
using Re6st.Core.Randomness;

namespace Re6st.Simulation.Scenarios;

/// <summary>
/// Routed hops in the n-order mesh versus hops in a flat random mesh of the same nodes, on the
/// same sampled pairs; plus the plain shortest-path distance in the n-order mesh.
/// </summary>
public static class StretchScenario
{
    public static (StretchStats Stretch, DistanceStats Distance) Run(MeshPlan plan, SimMesh mesh, SimMesh flat, SimOptions options, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var groups = PairSampler.Sample(plan.NodeCount, options.Pairs, 50, Xoshiro256StarStar.ForStream(options.Seed, 0x73747265746368));
        using var router = new Router(plan, mesh.Graph, Failures.None);
        var results = new (int Routed, int Flat, int Shortest)[groups.Length][];
        var done = 0;
        Parallel.For(0, groups.Length, g =>
        {
            var (s, targets) = groups[g];
            var flatDist = GraphAlgorithms.Distances(flat.Graph, s, Failures.None);
            var meshDist = ReferenceEquals(flat, mesh) ? flatDist : GraphAlgorithms.Distances(mesh.Graph, s, Failures.None);
            results[g] = [.. targets.Select(t => (router.Hops(s, t), flatDist[t], meshDist[t]))];
            progress?.Report(Interlocked.Increment(ref done) / (double)groups.Length);
        });

        var all = results.SelectMany(r => r).ToArray();
        var ok = all.Where(r => r.Routed > 0 && r.Flat > 0).ToArray();
        var ratios = ok.Select(r => r.Routed / (double)r.Flat).Order().ToArray();
        var stretch = new StretchStats(
            Round(Quantile(ratios, 0.5)),
            Round(Quantile(ratios, 0.9)),
            Round(ratios.Length == 0 ? 0 : ratios.Average()),
            all.Length,
            all.Count(r => r.Routed < 0));
        var shortest = all.Where(r => r.Shortest > 0).Select(r => (double)r.Shortest).ToArray();
        var distance = new DistanceStats(
            Round(shortest.Length == 0 ? 0 : shortest.Average()),
            false,
            shortest.Length,
            Round(shortest.Length == 0 ? 0 : shortest.Average()),
            Round(ok.Length == 0 ? 0 : ok.Average(r => r.Routed)),
            Round(ok.Length == 0 ? 0 : ok.Average(r => r.Flat)));
        return (stretch, distance);
    }

    internal static double Quantile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    internal static double Round(double v) => Math.Round(v, 4);
}
