using Re6st.Core.Planning;
using Re6st.Simulation.Routing;

namespace Re6st.Simulation.Scenarios;

/// <summary>Share of sampled pairs whose packets get through once Babel has converged around the failures.</summary>
public static class Reachability
{
    public static double RoutedShare(MeshPlan plan, ArrowGraph graph, Failures failures, (int Source, int[] Targets)[] groups)
    {
        using var router = new Router(plan, graph, failures);
        long reached = 0;
        long total = 0;
        Parallel.ForEach(groups, () => (0L, 0L), (g, _, acc) =>
        {
            foreach (var t in g.Targets)
            {
                acc.Item2++;
                if (router.Hops(g.Source, t) >= 0)
                {
                    acc.Item1++;
                }
            }

            return acc;
        }, acc =>
        {
            Interlocked.Add(ref reached, acc.Item1);
            Interlocked.Add(ref total, acc.Item2);
        });
        return total == 0 ? 0 : reached / (double)total;
    }
}
