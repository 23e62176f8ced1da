using System.Globalization;
using Re6st.Contracts;
using Re6st.Core.Policy;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Health;

/// <summary>
/// The principles audited on a live mesh, from what each agent counts and publishes in its status
/// (<see cref="ChurnStatusResource"/>, each arrow's <c>since</c> and <c>reason</c>): life requires
/// destruction (the share destroyed per period against the policy's, the periods' real length, no
/// arrow outliving the draw), randomness (how evenly hosts are chosen as peers) and the exceptions
/// kept within their bounds. Each finding is a <see cref="CheckItem"/> of <c>re6st check</c>; a
/// figure too young to judge gives no item rather than a pass. Statistical bounds sit at 5σ (or a
/// chance below one in a million), so a healthy mesh does not raise them by bad luck.
/// </summary>
public static class PrincipleAudit
{
    /// <summary>The chance below which an observation is taken as a fault rather than bad luck.</summary>
    private const double Unlikely = 1e-6;

    private const double Sigmas = 5;

    /// <summary>How far the measured period may stray from the policy's before it is worth a warning.</summary>
    private const double PeriodTolerance = 0.10;

    /// <summary>Fewer hosts than this in a sub-mesh say too little about how evenly peers are chosen.</summary>
    private const int ChoiceMinimumHosts = 10;

    public static IEnumerable<CheckItem> Run(string name, IReadOnlyList<V1Alpha1MeshNode> nodes, RandomizationPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(policy);
        var counted = nodes.Where(n => n.Status?.Churn is not null).ToList();
        var members = Members(nodes);
        if (Destruction(name, counted, policy) is { } destruction)
        {
            yield return destruction;
        }

        if (Period(name, counted, policy) is { } period)
        {
            yield return period;
        }

        if (OldestArrow(name, nodes, policy, now) is { } oldest)
        {
            yield return oldest;
        }

        if (PeerChoice(name, nodes, members) is { } choice)
        {
            yield return choice;
        }

        if (Exceptions(name, nodes, members, policy) is { } exceptions)
        {
            yield return exceptions;
        }
    }

    /// <summary>Each sub-mesh's hosts, from the MeshNodes' memberships.</summary>
    private static Dictionary<string, List<string>> Members(IReadOnlyList<V1Alpha1MeshNode> nodes) => nodes
        .SelectMany(n => n.Spec.Memberships.Select(m => (m.SubMesh, Host: n.Spec.Node)))
        .GroupBy(m => m.SubMesh, m => m.Host, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Distinct(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);

    /// <summary>
    /// The lowest share of arrows a period's draw destroys under the policy: the most-used share of
    /// them is destroyed mostUsedFactor as often. The highest is destroyShare itself (no arrow carries
    /// anything, so none is most used).
    /// </summary>
    public static (double Lowest, double Highest) DestroyedShare(RandomizationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var spared = policy.MostUsedFactor >= 1 ? 0 : Math.Clamp(policy.MostUsedShare, 0, 1) * (1 - policy.MostUsedFactor);
        return (policy.DestroyShare * (1 - spared), policy.DestroyShare);
    }

    /// <summary>Life requires destruction: the share of arrows the draws destroyed at the ends of periods.</summary>
    private static CheckItem? Destruction(string name, List<V1Alpha1MeshNode> counted, RandomizationPolicy policy)
    {
        var drawn = counted.Sum(n => n.Status!.Churn!.Drawn);
        var destroyed = counted.Sum(n => n.Status!.Churn!.Destroyed);
        var periods = counted.Sum(n => n.Status!.Churn!.Periods);
        if (drawn == 0 || policy.DestroyShare <= 0)
        {
            return null;
        }

        var (lowest, highest) = DestroyedShare(policy);
        var share = (double)destroyed / drawn;
        var figures = $"{destroyed} of {drawn} arrows destroyed at the ends of {periods} host-period(s): {Percent(share)} per period against {Percent(lowest)}–{Percent(highest)} the policy implies (destroyShare × (1 − mostUsedShare × (1 − mostUsedFactor)) to destroyShare)";
        var item = $"{name}: destruction";
        if (destroyed == 0 && Math.Pow(1 - lowest, drawn) < Unlikely)
        {
            var idle = counted.Where(n => n.Status!.Churn!.Drawn > 0).Select(n => n.Spec.Node).ToList();
            return new CheckItem(item, Outcome.Fail, $"no arrow destroyed: {figures}; life requires destruction", "the agents' logs (destroy phase); re6st_arrows_destroyed_total", idle);
        }

        var tooFew = share < lowest - (Sigmas * Math.Sqrt(lowest * (1 - lowest) / drawn));
        var tooMany = share > highest + (Sigmas * Math.Sqrt(highest * (1 - highest) / drawn));
        return tooFew || tooMany
            ? new CheckItem(item, Outcome.Warn, $"{(tooFew ? "too few" : "too many")} arrows destroyed: {figures}", "the agents' logs (destroy phase); re6st_arrows_destroyed_total and re6st_arrows_spared_total")
            : new CheckItem(item, Outcome.Pass, figures);
    }

    /// <summary>The periods as they really run, against the policy's refresh period.</summary>
    private static CheckItem? Period(string name, List<V1Alpha1MeshNode> counted, RandomizationPolicy policy)
    {
        var measured = counted
            .Where(n => n.Status!.Churn! is { Periods: >= 2, PeriodSeconds: not null })
            .Select(n => (Host: n.Spec.Node, Seconds: n.Status!.Churn!.PeriodSeconds!.Value, Weight: n.Status.Churn.Periods - 1))
            .ToList();
        if (measured.Count == 0)
        {
            return null;
        }

        var target = policy.RefreshPeriod.TotalSeconds;
        var mean = measured.Sum(m => m.Seconds * m.Weight) / measured.Sum(m => m.Weight);
        var off = measured.Where(m => Math.Abs(m.Seconds - target) > PeriodTolerance * target).ToList();
        var figures = $"periods run {Number(mean)} s on average against the policy's {Number(target)} s ({Signed((mean - target) / target)})";
        return off.Count == 0
            ? new CheckItem($"{name}: period", Outcome.Pass, figures)
            : new CheckItem(
                $"{name}: period",
                Outcome.Warn,
                $"{figures}; more than {Percent(PeriodTolerance)} off on {string.Join(", ", off.Select(m => $"{m.Host} ({Number(m.Seconds)} s)"))}",
                "agents whose steps run long (CPU starved, or blocked on the API server): re6st_period_end_lateness_seconds and re6st_phase_duration_seconds by phase on those hosts",
                [.. off.Select(m => m.Host)]);
    }

    /// <summary>
    /// No arrow outlives the draw: an active arrow drawn against every period survives k of them
    /// with probability (1 − share)^k, so among A arrows one older than k periods, with
    /// A × (1 − share)^k below one in a million, was not drawn, plus maxDrain for its drain.
    /// </summary>
    private static CheckItem? OldestArrow(string name, IReadOnlyList<V1Alpha1MeshNode> nodes, RandomizationPolicy policy, DateTimeOffset now)
    {
        var (lowest, _) = DestroyedShare(policy);
        var arrows = nodes
            .SelectMany(n => (n.Status?.Arrows ?? []).Where(a => a.Initiated).Select(a => (Host: n.Spec.Node, Arrow: a, Since: StatusHeartbeat.Parse(a.Since))))
            .Where(a => a.Since is not null)
            .Select(a => (a.Host, a.Arrow, Age: now - a.Since!.Value))
            .ToList();
        if (arrows.Count == 0 || lowest <= 0 || lowest >= 1)
        {
            return null;
        }

        var periods = Math.Ceiling(Math.Log(Unlikely / arrows.Count) / Math.Log(1 - lowest));
        var bound = (periods * policy.RefreshPeriod) + (policy.MaxDrain ?? TimeSpan.Zero);
        var oldest = arrows.MaxBy(a => a.Age);
        var figures = $"the oldest of {arrows.Count} arrows, {oldest.Host} → {oldest.Arrow.Peer}, is {Duration(oldest.Age)} old; bound {Duration(bound)} ({periods:0} periods, where {arrows.Count} arrows all survive the draw with a chance below one in a million, plus maxDrain)";
        var over = arrows.Where(a => a.Age > bound).ToList();
        return over.Count == 0
            ? new CheckItem($"{name}: arrow age", Outcome.Pass, figures)
            : new CheckItem(
                $"{name}: arrow age",
                Outcome.Warn,
                $"{over.Count} arrow(s) outlived the draw: {figures}",
                "the agent's destroy phase on those hosts (held by a hand-over? a drain that never ends?)",
                [.. over.Select(a => a.Host).Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>
    /// Randomness: in each sub-mesh of enough hosts, how many random-step arrows point at each host
    /// against a uniform choice. A host's count is a sum of Bernoulli(q) over the others, q = a/(n−1)
    /// for a arrows per host: mean a, variance a(1 − q). The dispersion Σ(c − a)² / (a(1 − q)) over
    /// the sub-meshes' hosts is about χ² with Σ(n − 1) degrees of freedom; over 5σ above it, some
    /// hosts are chosen far more often than chance allows.
    /// </summary>
    private static CheckItem? PeerChoice(string name, IReadOnlyList<V1Alpha1MeshNode> nodes, Dictionary<string, List<string>> members)
    {
        var arrows = nodes
            .SelectMany(n => (n.Status?.Arrows ?? []).Where(a => a.Initiated && a.Reason == "random"))
            .ToList();
        var (dispersion, freedom, judged, chosenMost) = (0.0, 0, 0, new List<string>());
        foreach (var (subMesh, hosts) in members)
        {
            var n = hosts.Count;
            var counts = hosts.ToDictionary(h => h, _ => 0, StringComparer.Ordinal);
            foreach (var arrow in arrows.Where(a => a.SubMesh == subMesh && counts.ContainsKey(a.Peer)))
            {
                counts[arrow.Peer]++;
            }

            var a = (double)counts.Values.Sum() / n;
            var q = a / (n - 1);
            if (n < ChoiceMinimumHosts || a <= 0 || q > 0.9)
            {
                continue; // too few hosts, no arrow yet, or nearly every host chosen by every other
            }

            judged++;
            dispersion += counts.Values.Sum(c => (c - a) * (c - a)) / (a * (1 - q));
            freedom += n - 1;
            chosenMost.Add(counts.MaxBy(c => c.Value).Key);
        }

        if (judged == 0)
        {
            return null;
        }

        var z = (dispersion - freedom) / Math.Sqrt(2.0 * freedom);
        var figures = $"arrows per chosen host in {judged} sub-mesh(es): χ² = {Number(dispersion)} on {freedom} degrees of freedom against a uniform choice ({Signed(z, "σ")})";
        return z <= Sigmas
            ? new CheckItem($"{name}: peer choice", Outcome.Pass, figures)
            : new CheckItem($"{name}: peer choice", Outcome.Warn, $"hosts are not chosen evenly: {figures}; chosen most: {string.Join(", ", chosenMost)}", "re6st status (arrows in per host); backed-off peers and technology rules narrow the draw", chosenMost);
    }

    /// <summary>The exceptions within their bounds: small-mesh only in small sub-meshes, bootstrap within its named peers, preferred within its share.</summary>
    private static CheckItem? Exceptions(string name, IReadOnlyList<V1Alpha1MeshNode> nodes, Dictionary<string, List<string>> members, RandomizationPolicy policy)
    {
        var faults = new List<string>();
        var hosts = new List<string>();
        var sizes = members.ToDictionary(m => m.Key, m => m.Value.Count, StringComparer.Ordinal);
        var smallest = sizes.Count == 0 ? 0 : sizes.Values.Min();
        var created = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            var live = (node.Status?.Arrows ?? []).Where(a => a.Initiated).ToList();
            var small = live.Where(a => a.Reason == "small-mesh" && sizes.GetValueOrDefault(a.SubMesh) > policy.SmallMeshSize).ToList();
            var everSmall = node.Status?.Churn?.Created?.GetValueOrDefault("small-mesh") ?? 0;
            if (small.Count > 0 || (everSmall > 0 && smallest > policy.SmallMeshSize))
            {
                faults.Add($"{node.Spec.Node} opened {Math.Max(small.Count, everSmall)} arrow(s) under the small-mesh exception in sub-meshes of more than smallMeshSize {policy.SmallMeshSize} hosts");
                hosts.Add(node.Spec.Node);
            }

            var bootstrap = live.Count(a => a.Reason == "bootstrap");
            var bootstrapBound = Math.Min(policy.BootstrapPeers.Count, policy.ArrowsPerNode);
            if (bootstrap > bootstrapBound)
            {
                faults.Add($"{node.Spec.Node} holds {bootstrap} bootstrap arrow(s), more than its {bootstrapBound} named peer(s)");
                hosts.Add(node.Spec.Node);
            }

            foreach (var (reason, count) in node.Status?.Churn?.Created ?? [])
            {
                created[reason] = created.GetValueOrDefault(reason) + count;
            }
        }

        // The preferred share of the draws that were not bootstrap or small-mesh: a binomial bound.
        var preferred = created.GetValueOrDefault("preferred");
        var drawnFreely = preferred + created.GetValueOrDefault("random");
        if (policy.Preferred is { } subset && drawnFreely > 0)
        {
            var share = Math.Min(subset.Share, 1);
            var ceiling = share + (Sigmas * Math.Sqrt(share * (1 - share) / drawnFreely));
            if ((double)preferred / drawnFreely > ceiling)
            {
                faults.Add($"{preferred} of {drawnFreely} arrows drawn from the preferred subset ({Percent((double)preferred / drawnFreely)}), above its share {Percent(share)}");
            }
        }
        else if (policy.Preferred is null && preferred > 0)
        {
            faults.Add($"{preferred} arrow(s) drawn from a preferred subset the policy does not name");
        }

        if (created.Count == 0 && nodes.All(n => (n.Status?.Arrows ?? []).All(a => a.Reason is null)))
        {
            return null;
        }

        var tally = created.Count == 0 ? "no arrow opened since the agents started" : string.Join(", ", created.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"));
        return faults.Count == 0
            ? new CheckItem($"{name}: exceptions", Outcome.Pass, $"arrows opened since the agents started, by selection step: {tally}; each exception within its bound")
            : new CheckItem($"{name}: exceptions", Outcome.Warn, $"{string.Join("; ", faults)} (arrows opened by selection step: {tally})", "the policy (re6st lint) and the agents' logs (select phase)", [.. hosts.Distinct(StringComparer.Ordinal)]);
    }

    private static string Percent(double share) => (share * 100).ToString(share < 0.1 ? "0.##" : "0.#", CultureInfo.InvariantCulture) + " %";

    private static string Signed(double share) => (share >= 0 ? "+" : "") + Percent(share);

    private static string Signed(double value, string unit) => (value >= 0 ? "+" : "") + value.ToString("0.#", CultureInfo.InvariantCulture) + " " + unit;

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Duration(TimeSpan span) => span.TotalMinutes >= 2
        ? span.TotalMinutes.ToString("0", CultureInfo.InvariantCulture) + " min"
        : span.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + " s";
}
