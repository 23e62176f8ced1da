using System.Globalization;
using System.Text;

namespace Re6st.Simulation;

/// <summary>The report as a terminal table.</summary>
public static class ReportText
{
    public static string Format(SimReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        void Row(string name, string value) => b.Append(c, $"  {name,-34} {value}\n");
        string P(double v) => v.ToString("P2", c);

        b.Append(c, $"re6st sim: {r.Nodes:N0} nodes, order {r.Order}, {r.Arrows} arrows per node, seed {r.Seed}\n");
        Row("sub-meshes", r.Order == 1 ? "1 (flat)" : string.Join(" x ", r.SubMeshes));
        Row("arrows / bridges", $"{r.ArrowCount:N0} / {r.Bridges:N0}");
        b.Append("routing-table entries per node\n");
        Row($"all nodes ({r.Routes.Method})", $"mean {r.Routes.Mean:F1}  p50 {r.Routes.P50}  p99 {r.Routes.P99}  max {r.Routes.Max}");
        Row("theory K·N^(1/K)", $"{r.Routes.Theory:F1}  (mean/theory {(r.Routes.Theory == 0 ? 0 : r.Routes.Mean / r.Routes.Theory):F3})");
        Row("members", $"mean {r.Routes.MembersOnly.Mean:F1}  p50 {r.Routes.MembersOnly.P50}  p99 {r.Routes.MembersOnly.P99}  max {r.Routes.MembersOnly.Max}  ({r.Routes.MembersOnly.Count:N0})");
        Row("bridges", $"mean {r.Routes.BridgesOnly.Mean:F1}  p50 {r.Routes.BridgesOnly.P50}  p99 {r.Routes.BridgesOnly.P99}  max {r.Routes.BridgesOnly.Max}  ({r.Routes.BridgesOnly.Count:N0})");
        if (r.Routes.Method == "propagated")
        {
            Row("model vs propagation mismatches", $"{r.Routes.ModelMismatches}; leaks {r.Routes.Leaks.Count}");
        }

        b.Append("paths\n");
        Row("hop stretch vs flat mesh", $"median {r.Stretch.Median:F3}  p90 {r.Stretch.P90:F3}  mean {r.Stretch.Mean:F3}  ({r.Stretch.Pairs} pairs, {r.Stretch.Unreachable} unreachable)");
        Row(r.Distance.Exact ? "distance (exact, all pairs)" : "distance (sampled)", $"mean {r.Distance.Mean:F3} hops" + (r.Distance.Exact ? $"  (sampled {r.Distance.SampledMean:F3})" : string.Empty));
        Row("routed / flat distance", $"{r.Distance.RoutedMean:F3} / {r.Distance.FlatMean:F3} hops");
        b.Append("resilience (share of pairs connected)\n");
        foreach (var p in r.Resilience)
        {
            Row($"{p.LossPercent}% of nodes lost", $"{P(p.Connected)}  (flat mesh {P(p.FlatConnected)})");
        }

        b.Append("crises (random mesh vs region-grouped mesh)\n");
        foreach (var k in r.Crisis.Cases)
        {
            Row(k.Name, $"{P(k.Random)} vs {P(k.Grouped)}  — {k.Description}");
        }

        b.Append(c, $"churn over {r.Churn.Periods} periods\n");
        Row("destroyed share per period", $"{P(r.Churn.DestroyedShare)} ({r.Churn.Destroyed:N0}: {r.Churn.Drained:N0} drained, {r.Churn.DestroyedAtOnce:N0} at once, {r.Churn.ForcedAfterMaxDrain:N0} forced; {r.Churn.MostUsedSpared:N0} most-used spared)");
        Row("pairs connected (make-before-break)", $"mean {P(r.Churn.ConnectedMean)}  min {P(r.Churn.ConnectedMin)}");
        Row("pairs connected (cut before replace)", $"mean {P(r.Churn.WithoutReplacementMean)}");
        Row("elapsed / peak memory", $"{r.ElapsedSeconds:F1} s / {r.PeakMemoryMB:N0} MB");
        foreach (var n in r.Notes.Take(10))
        {
            b.Append(c, $"  note: {n}\n");
        }

        return b.ToString();
    }
}
