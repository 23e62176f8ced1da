using System.Collections.Immutable;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Re6st.Agent.Babel;
using Re6st.Agent.Lifecycle;
using Re6st.Agent.Metrics;
using Re6st.Agent.Probing;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;

namespace Re6st.Agent.Tests.Config;

/// <summary>
/// What a real <see cref="AgentMetrics"/> registry exports once each of its methods ran, so that
/// every metric has a series: the names Prometheus can query.
/// </summary>
internal sealed partial class AgentMetricsExport
{
    private AgentMetricsExport(string text)
    {
        Text = text;
        Types = TypeLine().Matches(text).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["type"].Value, StringComparer.Ordinal);
        SeriesNames = text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => SeriesName().Match(l).Value).ToHashSet(StringComparer.Ordinal);
    }

    public string Text { get; }

    /// <summary>Each metric family and its type (counter, gauge, histogram).</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    /// <summary>The names of the exported samples (a histogram's are its _bucket, _sum and _count).</summary>
    public IReadOnlySet<string> SeriesNames { get; }

    public static async Task<AgentMetricsExport> CollectAsync()
    {
        var metrics = new AgentMetrics("node-a", "demo");
        metrics.ObservePlan(TimeSpan.FromMinutes(5), new Dictionary<string, int> { ["3"] = 40, ["5"] = 38 });
        foreach (var reason in new[] { "random", "bootstrap", "preferred", "small-mesh" })
        {
            metrics.Created(reason, "wireguard");
        }

        foreach (var reason in Enum.GetValues<RemovalReason>())
        {
            metrics.Destroyed(reason, "wireguard");
        }

        metrics.Accepted("openvpn");
        metrics.Adopted("wireguard");
        metrics.Rejected("not-a-member");
        metrics.Rejected("technology");
        metrics.Spared("most-used");
        metrics.DrainStarted();
        metrics.DrainEnded(TimeSpan.FromSeconds(14), forced: false);
        metrics.DrainEnded(TimeSpan.FromMinutes(60), forced: true);
        metrics.StepFailed("select");
        metrics.StepTook(TimeSpan.FromMilliseconds(300));
        metrics.PhaseTook("select", TimeSpan.FromMilliseconds(120));
        metrics.PeriodEndedLate(TimeSpan.FromMilliseconds(40));
        metrics.ObserveBounds(babeldRunaways: 0, babeldSuppressed: 0, agentSuppressed: 0, tombstones: 0, rejectedInputs: 2);

        var now = DateTimeOffset.UnixEpoch;
        var initiated = new ArrowRecord("a1", new Slot(0, 0, "re6a0", 51820), "node-b", "3", TunnelTechnology.WireGuard, initiated: true, now);
        var accepted = new ArrowRecord("c1", new Slot(1, 0, "re6b0", 51830), "node-c", "5", TunnelTechnology.OpenVpn, initiated: false, now) { State = ArrowState.Draining };
        var peer = IPAddress.Parse("fe80::2");
        var babel = BabelState.Empty with
        {
            Connected = true,
            Neighbours = ImmutableDictionary<string, BabelNeighbour>.Empty
                .Add("n1", new BabelNeighbour("n1", peer, "re6a0", 0xFFFF, 0xFFFF, 96, 96, 12.5, 0, 96)),
            Routes = ImmutableDictionary<string, BabelRoute>.Empty
                .Add("r1", new BabelRoute("r1", IpPrefix.Parse("fd5e:6e7:0:2::/64"), IpPrefix.Parse("::/0"), true, "02:00:00:00:00:00:00:02", 96, 0, peer, "re6a0")),
        };
        metrics.Observe([initiated, accepted], babel, babeldRestarts: 1, _ => new ProbeReading(true, TimeSpan.FromMilliseconds(12), 10, 10));

        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return new AgentMetricsExport(Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>
    /// Whether a query may read <paramref name="name"/>: a counter's or gauge's own name, or a
    /// histogram's _bucket, _sum or _count (never the histogram's bare name, which has no series).
    /// </summary>
    public bool Exports(string name) =>
        (Types.TryGetValue(name, out var type) && type != "histogram")
        || new[] { "_bucket", "_sum", "_count" }.Any(s => name.EndsWith(s, StringComparison.Ordinal) && Types.GetValueOrDefault(name[..^s.Length]) == "histogram");

    [GeneratedRegex(@"^# TYPE (?<name>\S+) (?<type>\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex SeriesName();
}
