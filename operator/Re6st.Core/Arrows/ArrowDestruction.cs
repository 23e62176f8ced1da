using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Core.Arrows;

/// <summary>
/// Principle: every refresh period, each of a node's arrows is destroyed with probability
/// destroyShare, good ones included. The exceptions are named steps below.
/// </summary>
public static class ArrowDestruction
{
    /// <summary>Decides, for each arrow this node initiated, what happens this period (decision i is for arrow i).</summary>
    public static ArrowDecision[] Decide(ReadOnlySpan<ArrowStatus> arrows, DateTimeOffset now, RandomizationPolicy policy, IRandomSource random)
    {
        var decisions = new ArrowDecision[arrows.Length];
        Decide(arrows, decisions, now, policy, random);
        return decisions;
    }

    public static void Decide(ReadOnlySpan<ArrowStatus> arrows, Span<ArrowDecision> decisions, DateTimeOffset now, RandomizationPolicy policy, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(random);
        if (decisions.Length < arrows.Length)
        {
            throw new ArgumentException("one decision per arrow is needed", nameof(decisions));
        }

        var mostUsed = MostUsed(arrows, policy, random);
        for (var i = 0; i < arrows.Length; i++)
        {
            var arrow = arrows[i];
            if (arrow.State == ArrowState.Draining)
            {
                decisions[i] = FinishDrain(arrow, now, policy);
                continue;
            }

            // Principle: destroyed with probability destroyShare.
            var u = random.NextDouble();
            var p = policy.DestroyShare;

            // Exception (most used): the arrows carrying the most routes are destroyed with a
            // lower probability. Bounded by mostUsedShare of the arrows and mostUsedFactor.
            if (mostUsed[i])
            {
                if (u < p && u >= p * policy.MostUsedFactor)
                {
                    decisions[i] = new ArrowDecision(ArrowAction.Keep, DecisionReason.MostUsedSpared);
                    continue;
                }

                p *= policy.MostUsedFactor;
            }

            if (u >= p)
            {
                decisions[i] = new ArrowDecision(ArrowAction.Keep, DecisionReason.NotDrawn);
            }
            else if (arrow.InUse)
            {
                // Exception (in use): a route goes through it, so it is drained through Babel
                // rather than cut. Bounded by maxDrain (see FinishDrain).
                decisions[i] = new ArrowDecision(ArrowAction.StartDrain, DecisionReason.InUse);
            }
            else
            {
                decisions[i] = new ArrowDecision(ArrowAction.Destroy, DecisionReason.Random);
            }
        }
    }

    /// <summary>The end of the in-use exception: destroyed when unused, or forced after maxDrain.</summary>
    private static ArrowDecision FinishDrain(ArrowStatus arrow, DateTimeOffset now, RandomizationPolicy policy)
    {
        if (!arrow.InUse)
        {
            return new ArrowDecision(ArrowAction.Destroy, DecisionReason.Drained);
        }

        var started = arrow.DrainStartedAt ?? now;
        return policy.MaxDrain is { } max && now - started >= max
            ? new ArrowDecision(ArrowAction.Destroy, DecisionReason.ForcedAfterMaxDrain)
            : new ArrowDecision(ArrowAction.Keep, DecisionReason.StillDraining);
    }

    /// <summary>
    /// Marks the mostUsedShare of active arrows carrying the most routes (then traffic). Ties are
    /// broken at random, never by name or age, so the exception does not become a fixed ranking.
    /// </summary>
    private static bool[] MostUsed(ReadOnlySpan<ArrowStatus> arrows, RandomizationPolicy policy, IRandomSource random)
    {
        var flags = new bool[arrows.Length];
        var activeCount = 0;
        var used = new List<(int Index, int Routes, long Traffic, ulong Tie)>();
        for (var i = 0; i < arrows.Length; i++)
        {
            if (arrows[i].State != ArrowState.Active)
            {
                continue;
            }

            activeCount++;
            if (arrows[i].RoutesCarried > 0 || arrows[i].TrafficBytes > 0)
            {
                used.Add((i, arrows[i].RoutesCarried, arrows[i].TrafficBytes, random.NextUInt64()));
            }
        }

        // The share counts all active arrows; an arrow that carries nothing is never "most used".
        var count = Math.Min(used.Count, (int)Math.Round(activeCount * policy.MostUsedShare, MidpointRounding.AwayFromZero));
        if (count == 0 || policy.MostUsedFactor >= 1)
        {
            return flags;
        }

        used.Sort((a, b) =>
        {
            var c = b.Routes.CompareTo(a.Routes);
            if (c == 0)
            {
                c = b.Traffic.CompareTo(a.Traffic);
            }

            return c != 0 ? c : a.Tie.CompareTo(b.Tie);
        });
        for (var k = 0; k < count; k++)
        {
            flags[used[k].Index] = true;
        }

        return flags;
    }
}
