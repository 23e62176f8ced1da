using Re6st.Core.Planning;
using Re6st.Core.Randomness;

namespace Re6st.Simulation.Scenarios;

/// <summary>Random loss of x % of nodes: routed reachability in the mesh, exact connectivity of the flat mesh.</summary>
public static class ResilienceScenario
{
    public static IReadOnlyList<ResiliencePoint> Run(MeshPlan plan, SimMesh mesh, SimMesh flat, SimOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var points = new List<ResiliencePoint>();
        foreach (var loss in options.LossPercents)
        {
            var random = Xoshiro256StarStar.ForStream(options.Seed, 0x6c6f7373, (ulong)(loss * 1000));
            var dead = new bool[plan.NodeCount];
            var order = Enumerable.Range(0, plan.NodeCount).ToArray();
            random.Shuffle(order.AsSpan());
            foreach (var i in order.Take((int)Math.Round(plan.NodeCount * loss / 100)))
            {
                dead[i] = true;
            }

            var failures = Failures.Kill(dead);
            var groups = PairSampler.Sample(plan.NodeCount, options.ScenarioPairs, 20, random, failures.IsAlive);
            points.Add(new ResiliencePoint(
                loss,
                StretchScenario.Round(Reachability.RoutedShare(plan, mesh.Graph, failures, groups)),
                StretchScenario.Round(GraphAlgorithms.ConnectedShare(flat.Graph, failures))));
        }

        return points;
    }
}
