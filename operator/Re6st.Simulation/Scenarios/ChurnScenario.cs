using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Simulation.Scenarios;

/// <summary>
/// T periods of the destruction policy, run by the very code agents run (ArrowDestruction, then
/// ArrowSelection to replace): how often sampled pairs stay connected. Destroyed arrows are
/// replaced while they drain (make-before-break); the pessimistic figure cuts them before any
/// replacement exists.
/// </summary>
public static class ChurnScenario
{
    public static ChurnStats Run(MeshPlan plan, SimMesh mesh, RandomizationPolicy policy, SimOptions options, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(options);
        var groups = PairSampler.Sample(plan.NodeCount, options.ScenarioPairs, 20, Xoshiro256StarStar.ForStream(options.Seed, 0x636875726e));
        var epoch = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var reasons = new long[Enum.GetValues<DecisionReason>().Length];
        long arrowsAtStart = 0;
        var connected = new List<double>();
        var withoutReplacement = new List<double>();
        for (var period = 0; period < options.ChurnPeriods; period++)
        {
            var now = epoch + (policy.RefreshPeriod * period);
            arrowsAtStart += mesh.ArrowCount;
            var perPart = new long[mesh.Parts.Length][];
            Parallel.For(0, mesh.Parts.Length, p =>
            {
                perPart[p] = DestroyIn(mesh.Parts[p], now, policy, Xoshiro256StarStar.ForStream(options.Seed, 0x64657374, (ulong)period, (ulong)p));
            });
            foreach (var counts in perPart)
            {
                for (var r = 0; r < reasons.Length; r++)
                {
                    reasons[r] += counts[r];
                }
            }

            mesh.Invalidate();
            withoutReplacement.Add(Reachability.RoutedShare(plan, mesh.Graph, Failures.None, groups));

            Parallel.For(0, mesh.Parts.Length, p =>
                mesh.Parts[p].Fill(policy, Xoshiro256StarStar.ForStream(options.Seed, 0x7265706c, (ulong)period, (ulong)p)));
            mesh.Invalidate();
            connected.Add(Reachability.RoutedShare(plan, mesh.Graph, Failures.None, groups));
            progress?.Report((period + 1) / (double)options.ChurnPeriods);
        }

        var destroyed = reasons[(int)DecisionReason.Random] + reasons[(int)DecisionReason.InUse] + reasons[(int)DecisionReason.ForcedAfterMaxDrain];
        return new ChurnStats(
            options.ChurnPeriods,
            StretchScenario.Round(arrowsAtStart == 0 ? 0 : destroyed / (double)arrowsAtStart),
            destroyed,
            reasons[(int)DecisionReason.InUse],
            reasons[(int)DecisionReason.ForcedAfterMaxDrain],
            reasons[(int)DecisionReason.Random],
            reasons[(int)DecisionReason.MostUsedSpared],
            StretchScenario.Round(connected.Count == 0 ? 1 : connected.Average()),
            StretchScenario.Round(connected.Count == 0 ? 1 : connected.Min()),
            StretchScenario.Round(withoutReplacement.Count == 0 ? 1 : withoutReplacement.Average()));
    }

    /// <summary>
    /// One period in one sub-mesh: each member decides on the arrows it initiated. Routes carried
    /// are estimated by the peer's degree (a well-connected peer draws more routes); every arrow
    /// carries at least its peer's own prefix, so every drawn arrow is drained, and a drain ends
    /// well within a period (tens of seconds against minutes), so drained arrows are gone by the next.
    /// </summary>
    private static long[] DestroyIn(SubMeshArrows part, DateTimeOffset now, RandomizationPolicy policy, IRandomSource random)
    {
        var counts = new long[Enum.GetValues<DecisionReason>().Length];
        var byInitiator = new List<int>[part.Members.Length];
        for (var k = 0; k < part.Arrows.Count; k++)
        {
            (byInitiator[part.Arrows[k].From] ??= []).Add(k);
        }

        var remove = new bool[part.Arrows.Count];
        foreach (var owned in byInitiator)
        {
            if (owned is null)
            {
                continue;
            }

            var statuses = owned.Select(k => new ArrowStatus(ArrowState.Active, part.DegreeOf(part.Arrows[k].To))).ToArray();
            var decisions = ArrowDestruction.Decide(statuses, now, policy, random);
            for (var j = 0; j < owned.Count; j++)
            {
                counts[(int)decisions[j].Reason]++;
                if (decisions[j].Action != ArrowAction.Keep)
                {
                    remove[owned[j]] = true;
                }
            }
        }

        part.RemoveWhere(k => remove[k]);
        return counts;
    }
}
