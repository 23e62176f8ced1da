using System.Globalization;
using Re6st.Contracts;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Health;

/// <summary>
/// One mesh as <c>re6st status</c> shows it, from its MeshNodes: each host's arrows, routes and
/// heartbeat, and the mesh's totals. A pure function of a <see cref="MeshView"/>.
/// </summary>
public sealed record MeshReport(
    string Mesh,
    string Ready,
    int Order,
    int SubMeshes,
    IReadOnlyList<HostReport> Hosts,
    int Arrows,
    int Draining,
    IReadOnlyDictionary<string, int> ByTechnology,
    double RoutesMean,
    double RoutesExpected,
    MeshChurn Churn)
{
    /// <summary>Hosts whose status lists no arrow (cut off from the mesh, unless the mesh has one host).</summary>
    public IReadOnlyList<string> WithoutArrows => [.. Hosts.Where(h => h.Out + h.In == 0 && Hosts.Count > 1).Select(h => h.Host)];

    public static MeshReport Build(MeshView view, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(view);
        var nodes = view.Nodes.OrderBy(n => n.Spec.Node, StringComparer.Ordinal).ToList();
        var live = nodes.Where(n => HostRouting.IsLive(n, now)).ToList();
        var hosts = nodes.Select(n => HostReport.Build(n, live, now)).ToList();
        var initiated = nodes.SelectMany(n => n.Status?.Arrows ?? []).Where(a => a.Initiated).ToList();
        var order = view.Mesh.Spec.Order ?? 1;
        var ready = view.Mesh.Status?.Conditions?.FirstOrDefault(c => c.Type == Conditions.Ready);
        var routes = hosts.Where(h => h.Routes is not null).Select(h => (double)h.Routes!.Value).ToList();
        return new MeshReport(
            view.Name,
            ready switch
            {
                { Status: "True" } => "Ready",
                null => "no Ready condition yet",
                _ => $"not Ready ({ready.Reason}: {ready.Message})",
            },
            order,
            view.Mesh.Status?.SubMeshCount ?? 1,
            hosts,
            initiated.Count,
            initiated.Count(a => a.State == "draining"),
            initiated.GroupBy(a => a.Technology ?? "unknown", StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            routes.Count > 0 ? routes.Average() : 0,
            ExpectedRoutes(order, nodes.Count),
            MeshChurn.Sum(nodes.Select(n => n.Status?.Churn)));
    }

    /// <summary>"3 host(s) · order 1 · 1 sub-mesh(es) · 3 arrow(s) (0 draining; wireguard 3)".</summary>
    public string Shape => $"{Hosts.Count} host(s) · order {Order} · {SubMeshes} sub-mesh(es) · {Arrows} arrow(s) ({Draining} draining{(ByTechnology.Count == 0 ? "" : $"; {string.Join(", ", ByTechnology.Select(t => $"{t.Key} {t.Value}"))}")})";

    /// <summary>"routes per host: 2 on average (K·N^(1/K) = 3)".</summary>
    public string RoutesSummary => string.Create(CultureInfo.InvariantCulture, $"routes per host: {RoutesMean:0.#} on average (K·N^(1/K) = {RoutesExpected:0.#})");

    /// <summary>The mean routing-table size the n-order mesh aims at: K·N^(1/K) for N hosts at order K.</summary>
    public static double ExpectedRoutes(int order, int hosts) => hosts == 0 ? 0 : order * Math.Pow(hosts, 1.0 / order);

    public object ToJson() => new
    {
        mesh = Mesh,
        ready = Ready,
        order = Order,
        subMeshes = SubMeshes,
        hosts = Hosts.Count,
        arrows = Arrows,
        draining = Draining,
        byTechnology = ByTechnology,
        withoutArrows = WithoutArrows,
        routesMean = Math.Round(RoutesMean, 2),
        routesExpected = Math.Round(RoutesExpected, 2),
        churn = new { periods = Churn.Periods, drawn = Churn.Drawn, destroyed = Churn.Destroyed, spared = Churn.Spared, created = Churn.Created, removed = Churn.Removed },
        hostRows = Hosts.Select(h => h.ToJson()),
    };
}

/// <summary>
/// The mesh's churn, summed over its agents' counters since each started (<see cref="ChurnStatusResource"/>):
/// arrows drawn at the ends of periods, destroyed and spared by the draw, arrows opened by selection step, and arrows removed by reason.
/// </summary>
public sealed record MeshChurn(int Periods, int Drawn, int Destroyed, int Spared, IReadOnlyDictionary<string, int> Created, IReadOnlyDictionary<string, int> Removed)
{
    public static MeshChurn Sum(IEnumerable<ChurnStatusResource?> counters)
    {
        var all = counters.OfType<ChurnStatusResource>().ToList();
        return new MeshChurn(
            all.Sum(c => c.Periods),
            all.Sum(c => c.Drawn),
            all.Sum(c => c.Destroyed),
            all.Sum(c => c.Spared),
            Add(all.Select(c => c.Created)),
            Add(all.Select(c => c.Removed)));
    }

    private static SortedDictionary<string, int> Add(IEnumerable<Dictionary<string, int>?> counts)
    {
        var sum = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (reason, count) in counts.SelectMany(c => c ?? []))
        {
            sum[reason] = sum.GetValueOrDefault(reason) + count;
        }

        return sum;
    }

    /// <summary>"destroyed 12 of 40 arrows drawn over 8 host-period(s) (30 %), 2 spared as most used; since the agents started, opened: random 30, small-mesh 2; removed: dead 1, random 12", or null when nothing was counted.</summary>
    public string? Describe() => Drawn == 0 && Created.Count == 0 && Removed.Count == 0
        ? null
        : $"destroyed {Destroyed} of {Drawn} arrows drawn over {Periods} host-period(s){(Drawn > 0 ? $" ({100.0 * Destroyed / Drawn:0.#} %)" : "")}, {Spared} spared as most used; since the agents started, opened: {Tally(Created)}; removed: {Tally(Removed)}";

    private static string Tally(IReadOnlyDictionary<string, int> counts) => counts.Count == 0 ? "none" : string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"));
}

/// <summary>One host of a mesh, from its MeshNode.</summary>
/// <param name="Peers">Live hosts homed in the sub-meshes it speaks in: it should hold a route to each (<see cref="HostRouting"/>).</param>
/// <param name="HeartbeatAge">How long ago its agent last wrote its status (null: it never wrote a heartbeat).</param>
public sealed record HostReport(
    string Host,
    string Role,
    string SubMeshes,
    bool HasStatus,
    int Out,
    int In,
    int Draining,
    int? Routes,
    int Peers,
    TimeSpan? HeartbeatAge,
    bool HandsOver,
    IReadOnlyList<string> StandingIn,
    IReadOnlyList<string> ArrowPeers)
{
    public bool Stale => HeartbeatAge is not { } age || StatusHeartbeat.IsStale(age);

    /// <summary>"5 s ago", "300 s ago (stale)", "never" (no status), "no heartbeat".</summary>
    public string Written => this switch
    {
        { HasStatus: false } => "never",
        { HeartbeatAge: { } age } => string.Create(CultureInfo.InvariantCulture, $"{age.TotalSeconds:0} s ago{(Stale ? " (stale)" : "")}"),
        _ => "no heartbeat",
    };

    /// <summary>"12/9": installed routes against live hosts homed in its sub-meshes ("-" when babeld does not answer).</summary>
    public string RoutesAgainstPeers => $"{(Routes is { } routes ? routes.ToString(CultureInfo.InvariantCulture) : "-")}/{Peers}";

    /// <summary>"handing over; standing in for b", or empty.</summary>
    public string Notes => string.Join("; ", new[] { HandsOver ? "handing over" : null, StandingIn.Count > 0 ? $"standing in for {string.Join(", ", StandingIn)}" : null }.OfType<string>());

    /// <param name="live">The mesh's hosts whose agents wrote their status recently (<see cref="HostRouting.IsLive"/>).</param>
    public static HostReport Build(V1Alpha1MeshNode node, IReadOnlyList<V1Alpha1MeshNode> live, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(live);
        var status = node.Status;
        var arrows = status?.Arrows ?? [];
        var peers = HostRouting.LivePeers(node, live);
        var beat = StatusHeartbeat.Parse(status?.Heartbeat);
        return new HostReport(
            node.Spec.Node,
            node.Spec.Role,
            string.Join(',', node.Spec.Memberships.Select(m => m.SubMesh)),
            status is not null,
            arrows.Count(a => a.Initiated),
            arrows.Count(a => !a.Initiated),
            arrows.Count(a => a.Initiated && a.State == "draining"),
            status?.Routes,
            peers,
            beat is { } b ? now - b : null,
            StatusHeartbeat.Parse(status?.HandOverUntil) is { } until && until > now,
            status?.StandingIn ?? [],
            [.. arrows.Select(a => a.Peer).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
    }

    public object ToJson() => new
    {
        host = Host,
        role = Role,
        subMeshes = SubMeshes,
        arrowsOut = Out,
        arrowsIn = In,
        draining = Draining,
        routes = Routes,
        peers = Peers,
        heartbeatAgeSeconds = HeartbeatAge is { } age ? Math.Round(age.TotalSeconds, 1) : (double?)null,
        handsOver = HandsOver,
        standingIn = StandingIn,
    };
}
