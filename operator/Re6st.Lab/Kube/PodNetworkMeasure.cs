using System.Diagnostics;
using System.Globalization;
using Re6st.Core.Addressing;
using Re6st.Lab.Cluster;
using Re6st.Operator.Resources;

namespace Re6st.Lab.Kube;

/// <summary>
/// Application pods over the mesh on a running real-node lab, measured: what <c>re6st bench pods</c>
/// prints and what its test asserts. Pods on every node ping every other; each host's table is
/// compared with what its place in the n-order mesh predicts; then churn at a 10 s period under pod
/// traffic (pings and a long-lived TCP connection); then pod-to-pod TCP throughput across one
/// WireGuard arrow against the same hosts' underlay.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class PodNetworkMeasure
{
    /// <summary>The churn period while measuring: the issue's and the README's figure.</summary>
    public const string ChurnPeriod = "10s";

    /// <param name="churnSeconds">How long to churn; 0 skips the churn (its figures are then 0).</param>
    /// <param name="throughput">Whether to measure throughput (null figures when not).</param>
    public static async Task<PodsBenchResult> RunAsync(RealCluster cluster, int order, int churnSeconds, bool throughput, Action<string> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(step);
        var clock = Stopwatch.StartNew();
        var workload = await WorkloadPods.StartAsync(cluster, TimeSpan.FromMinutes(3), cancellationToken);
        var pods = workload.Pods;
        var pairs = pods.Count * (pods.Count - 1);
        step($"{pods.Count} pods running; waiting (at most 2 min) until every pair pings over both families");
        IReadOnlyList<string> unreachable = [];
        for (var until = DateTime.UtcNow + TimeSpan.FromMinutes(2); DateTime.UtcNow < until; await Task.Delay(2000, cancellationToken))
        {
            unreachable = [.. await workload.UnreachablePairsAsync(ipv6: false, cancellationToken), .. await workload.UnreachablePairsAsync(ipv6: true, cancellationToken)];
            if (unreachable.Count == 0)
            {
                break;
            }
        }

        // A pair is reachable when both its families answer.
        var podAt = pods.SelectMany(p => new[] { (Address: p.Ipv4, p.Name), (Address: p.Ipv6, p.Name) }).ToDictionary(x => x.Address, x => x.Name, StringComparer.Ordinal);
        var reachablePairs = pairs - unreachable.Select(u => u.Split(" -> ")).Select(x => $"{x[0]}>{podAt[x[1]]}").Distinct(StringComparer.Ordinal).Count();
        step($"{reachablePairs} of {pairs} pairs of pods reachable{(unreachable.Count > 0 ? $"; unreachable: {string.Join(", ", unreachable)}" : "")}");

        step("each host's routes against what its place in the mesh predicts (at most 1 min for Babel to settle)");
        var tables = await MemberTables.WaitAsync(cluster, order, TimeSpan.FromMinutes(1), cancellationToken);
        foreach (var off in tables.OffPrediction)
        {
            step($"  {off}");
        }

        var (traffic, replaced, arrows) = (new WorkloadPods.PodTraffic(0, 0, 0, 0, null), 0, 0);
        if (churnSeconds > 0)
        {
            step($"churn: the policy's period at {ChurnPeriod} for {churnSeconds} s under pod traffic");
            (traffic, replaced, arrows) = await ChurnAsync(cluster, workload, pods[0], pods[^1], TimeSpan.FromSeconds(churnSeconds), cancellationToken);
            step($"churn: {replaced} of {arrows} arrows replaced; pod pings {traffic.Lost} of {traffic.Sent} lost over IPv4, {traffic.LostIpv6} of {traffic.SentIpv6} over IPv6; TCP {traffic.TcpEchoed} of {traffic.TcpLines} lines echoed{(traffic.TcpError is { } why ? $", broken: {why}" : "")}");
        }

        foreach (var loss in traffic.Losses)
        {
            step($"  {loss}");
        }

        // Throughput across one WireGuard arrow (the hosts it joins route each other directly over
        // it), against the same two hosts on their own network.
        var meshNodes = await LabSnapshot.MeshNodesAsync(cluster.Admin, cluster.Mesh, cancellationToken);
        var arrow = meshNodes
            .SelectMany(m => (m.Status?.Arrows ?? []).Where(x => x.Initiated && x.Technology == "wireguard" && x.State == "active").Select(x => (From: m.Spec.Node, To: x.Peer)))
            .FirstOrDefault();
        double? arrowMbps = null, underlayMbps = null;
        if (throughput && arrow.From is not null)
        {
            step($"throughput: pods on {arrow.From} and {arrow.To} (a WireGuard arrow), then the same hosts without a tunnel");
            arrowMbps = await workload.ThroughputMbpsAsync(pods.Single(p => p.Node == arrow.From), pods.Single(p => p.Node == arrow.To), 10, cancellationToken);
            var hostFrom = await workload.StartHostPodAsync(arrow.From, TimeSpan.FromMinutes(1), cancellationToken);
            var hostTo = await workload.StartHostPodAsync(arrow.To, TimeSpan.FromMinutes(1), cancellationToken);
            underlayMbps = await workload.ThroughputMbpsAsync(hostFrom, hostTo, 10, cancellationToken);
        }
        else if (throughput)
        {
            step("no active WireGuard arrow: throughput not measured");
        }

        await workload.DeleteAsync(TimeSpan.FromMinutes(3), cancellationToken);
        return new PodsBenchResult(
            cluster.Nodes.Count,
            order,
            Environment.ProcessorCount,
            pods.Count,
            pairs,
            reachablePairs,
            unreachable,
            churnSeconds,
            traffic.Sent + traffic.SentIpv6,
            traffic.Lost + traffic.LostIpv6,
            traffic.Lost,
            traffic.LostIpv6,
            [.. traffic.Losses.Select(l => l.ToString())],
            replaced,
            traffic.TcpResets,
            traffic.TcpError,
            arrowMbps,
            underlayMbps,
            tables.Members,
            tables.RoutesPerMember,
            tables.RoutesPerMemberMax,
            tables.PredictedPerMember,
            tables.Bridges,
            tables.RoutesPerBridge,
            tables.OffPrediction,
            Math.Round(clock.Elapsed.TotalSeconds, 1));
    }

    /// <summary>
    /// Churn under pod traffic: the mesh's policy at a <see cref="ChurnPeriod"/> period (30 % of each
    /// host's arrows destroyed and replaced every period, drained first when in use) for
    /// <paramref name="duration"/>, while <see cref="WorkloadPods.MeasureAsync"/> runs; then the
    /// policy's period back at 5 minutes. Returns the traffic, and how many of the arrows there were
    /// before were replaced.
    /// </summary>
    public static async Task<(WorkloadPods.PodTraffic Traffic, int Replaced, int Arrows)> ChurnAsync(RealCluster cluster, WorkloadPods workload, WorkloadPods.Pod tcpFrom, WorkloadPods.Pod tcpTo, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(workload);
        var before = await ArrowIdsAsync(cluster, cancellationToken);
        await cluster.KubectlAsync(["patch", "randomizationpolicy", "default", "--type", "merge", "-p", $$$"""{"spec":{"refreshPeriod":"{{{ChurnPeriod}}}"}}"""], cancellationToken);
        WorkloadPods.PodTraffic traffic;
        try
        {
            traffic = await workload.MeasureAsync(tcpFrom, tcpTo, duration, TimeSpan.FromMilliseconds(200), cancellationToken);
        }
        finally
        {
            await cluster.KubectlAsync(["patch", "randomizationpolicy", "default", "--type", "merge", "-p", """{"spec":{"refreshPeriod":"5m"}}"""], CancellationToken.None);
        }

        return (traffic, before.Except(await ArrowIdsAsync(cluster, cancellationToken)).Count(), before.Count);
    }

    private static async Task<HashSet<string>> ArrowIdsAsync(RealCluster cluster, CancellationToken cancellationToken) =>
        [.. (await LabSnapshot.MeshNodesAsync(cluster.Admin, cluster.Mesh, cancellationToken))
            .SelectMany(m => (m.Status?.Arrows ?? []).Where(x => x.Initiated && x.Id is not null).Select(x => $"{m.Spec.Node}->{x.Peer} {x.Id}"))];
}

/// <summary>
/// Each host's Babel routes (its kernel's <c>proto babel</c> routes, both families) against what
/// its place in the n-order mesh predicts from the MeshNodes alone: the node prefixes of every
/// sub-mesh it speaks in (its home, and for a bridge the sub-meshes it joins), other than its own,
/// and one aggregate for every other sub-mesh. Pod ranges sit inside node prefixes, so no route is
/// a pod's own: a table that matches holds pods' routes for its own sub-mesh and aggregates only.
/// Exact for orders 1 and 2 (one level of sub-meshes); at order 3 the aggregates of a host's own
/// order-2 group differ: the routes are counted, not predicted.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed record MemberTables(int Members, double RoutesPerMember, int RoutesPerMemberMax, double? PredictedPerMember, int Bridges, double RoutesPerBridge, IReadOnlyList<string> OffPrediction)
{
    /// <summary>Polls until every host's table matches its prediction, or <paramref name="timeout"/>; the last reading.</summary>
    public static async Task<MemberTables> WaitAsync(RealCluster cluster, int order, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        for (var deadline = DateTime.UtcNow + timeout; ; await Task.Delay(2000, cancellationToken))
        {
            var tables = await ReadAsync(cluster, order, cancellationToken);
            if (tables.OffPrediction.Count == 0 || DateTime.UtcNow > deadline)
            {
                return tables;
            }
        }
    }

    public static async Task<MemberTables> ReadAsync(RealCluster cluster, int order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var meshNodes = await LabSnapshot.MeshNodesAsync(cluster.Admin, cluster.Mesh, cancellationToken);
        var predicted = order <= 2 ? Predict(meshNodes) : null;
        var counts = new List<int>();
        var bridgeCounts = new List<int>();
        var off = new List<string>();
        var roles = meshNodes.ToDictionary(n => n.Spec.Node, n => n.Spec.Role, StringComparer.Ordinal);
        foreach (var node in cluster.Nodes)
        {
            var actual = new HashSet<IpPrefix>();
            foreach (var family in new[] { "-6", "-4" })
            {
                var routes = await cluster.Lab.IpAsync(node.Host, family, "route", "show", "proto", "babel");
                foreach (var line in routes.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    // babeld keeps an unreachable route for a prefix it lost: it carries nothing.
                    if (!line.StartsWith("unreachable", StringComparison.Ordinal) && IpPrefix.TryParse(line.Split(' ')[0], out var prefix, out _))
                    {
                        actual.Add(prefix);
                    }
                }
            }

            (roles.GetValueOrDefault(node.Host.Name) == "bridge" ? bridgeCounts : counts).Add(actual.Count);
            if (predicted is null)
            {
                continue;
            }

            if (!predicted.TryGetValue(node.Host.Name, out var expected))
            {
                off.Add($"{node.Host.Name}: no MeshNode");
                continue;
            }

            var missing = expected.Except(actual).Order().ToList();
            var extra = actual.Except(expected).Order().ToList();
            if (missing.Count > 0 || extra.Count > 0)
            {
                off.Add($"{node.Host.Name}: {actual.Count} route(s), {expected.Count} predicted; missing {Join(missing)}; unexpected {Join(extra)}");
            }
        }

        var members = meshNodes.Where(n => n.Spec.Role != "bridge").Select(n => n.Spec.Node).ToHashSet(StringComparer.Ordinal);
        return new MemberTables(
            counts.Count,
            counts.Count > 0 ? Math.Round(counts.Average(), 1) : 0,
            counts.Count > 0 ? counts.Max() : 0,
            predicted?.Where(p => members.Contains(p.Key)).Select(p => p.Value.Count).DefaultIfEmpty().Average() is { } mean ? Math.Round(mean, 1) : null,
            bridgeCounts.Count,
            bridgeCounts.Count > 0 ? Math.Round(bridgeCounts.Average(), 1) : 0,
            off);
    }

    /// <summary>The routes each host's Babel should hold, by node name (see the type's summary).</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<IpPrefix>> Predict(IReadOnlyList<V1Alpha1MeshNode> meshNodes)
    {
        ArgumentNullException.ThrowIfNull(meshNodes);
        static IEnumerable<IpPrefix> Own(V1Alpha1MeshNode n) =>
            n.Spec.Ipv4Prefix is { } v4 ? [IpPrefix.Parse(n.Spec.Ipv6Prefix), IpPrefix.Parse(v4)] : [IpPrefix.Parse(n.Spec.Ipv6Prefix)];
        var ranges = meshNodes
            .SelectMany(n => n.Spec.Memberships)
            .GroupBy(m => m.SubMesh, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<IpPrefix>)(g.First().Ipv4Range is { } v4 ? [IpPrefix.Parse(g.First().Ipv6Range), IpPrefix.Parse(v4)] : [IpPrefix.Parse(g.First().Ipv6Range)]), StringComparer.Ordinal);
        var homes = meshNodes.GroupBy(n => n.Spec.HomeSubMesh, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.SelectMany(Own).ToList(), StringComparer.Ordinal);
        var result = new Dictionary<string, IReadOnlySet<IpPrefix>>(StringComparer.Ordinal);
        foreach (var node in meshNodes)
        {
            var speaks = node.Spec.Memberships.Select(m => m.SubMesh).Append(node.Spec.HomeSubMesh).ToHashSet(StringComparer.Ordinal);
            var expected = new HashSet<IpPrefix>(speaks.SelectMany(s => homes.GetValueOrDefault(s) ?? []));
            expected.UnionWith(homes.Keys.Where(s => !speaks.Contains(s) && ranges.ContainsKey(s)).SelectMany(s => ranges[s]));
            expected.ExceptWith(Own(node));
            result[node.Spec.Node] = expected;
        }

        return result;
    }

    private static string Join(List<IpPrefix> prefixes) => prefixes.Count == 0 ? "none" : string.Join(", ", prefixes.Select(p => p.ToString()));
}

/// <summary>The figures of <c>re6st bench pods</c>.</summary>
/// <param name="UnreachablePairs">The pod pairs (and family) that did not answer, when some did not.</param>
/// <param name="TcpError">How the long-lived connection broke, when it did.</param>
/// <param name="Members">The hosts that are plain members of a sub-mesh (not bridges): what the per-member figures average over.</param>
/// <param name="PodRoutesPerMember">The routes that carry pods in a plain member's table, the mean over members: its Babel routes (node prefixes and aggregates, which hold the pod ranges; no route is a pod's own).</param>
/// <param name="RoutesPerBridge">The same for bridges, which speak in two sub-meshes.</param>
/// <param name="MembersOffPrediction">The hosts (members and bridges) whose table differs from the prediction, with what differs.</param>
/// <param name="ChurnSent">Pings between pods while churning, both families (<paramref name="ChurnLostIpv4"/> and <paramref name="ChurnLostIpv6"/> split the lost ones).</param>
/// <param name="PredictedRoutesPerMember">The same, predicted from each host's place in the n-order mesh (orders 1 and 2; null at order 3).</param>
public sealed record PodsBenchResult(
    int Nodes,
    int Order,
    int Cores,
    int Pods,
    int Pairs,
    int ReachablePairs,
    IReadOnlyList<string> UnreachablePairs,
    int ChurnSeconds,
    long ChurnSent,
    long ChurnLost,
    long ChurnLostIpv4,
    long ChurnLostIpv6,
    IReadOnlyList<string> ChurnLossesByPair,
    int ArrowsReplaced,
    int TcpResets,
    string? TcpError,
    double? ThroughputMbpsArrow,
    double? ThroughputMbpsUnderlay,
    int Members,
    double PodRoutesPerMember,
    int PodRoutesPerMemberMax,
    double? PredictedRoutesPerMember,
    int Bridges,
    double RoutesPerBridge,
    IReadOnlyList<string> MembersOffPrediction,
    double ElapsedSeconds);
