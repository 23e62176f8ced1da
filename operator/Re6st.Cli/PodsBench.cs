using System.Diagnostics;
using Re6st.Lab.Cluster;
using Re6st.Lab.Kube;

namespace Re6st.Cli;

/// <summary>
/// <c>re6st bench pods</c>: application pods over the mesh on the real-node lab. Pods on every node
/// ping every other; then churn at a 10 s period under pod traffic (pings and a long-lived TCP
/// connection); then pod-to-pod TCP throughput across one WireGuard arrow against the same hosts'
/// underlay; and the routing table each member holds.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class PodsBench
{
    public const string Usage = """
               re6st bench pods [--nodes N] [--order K] [--churn S] [--json FILE]

          Brings up the real-node lab of `re6st lab up` with the pod network, starts an ordinary pod
          on every node and prints one JSON object: pods, pairs and reachablePairs (every pod pings
          every other over IPv4 and IPv6); churnSeconds, churnSent, churnLost, arrowsReplaced and
          tcpResets (S seconds with the policy's period at 10 s, every pod pinging every other
          5 times a second and one TCP connection carrying a line every half second);
          throughputMbpsArrow (iperf3 between pods on two hosts joined by a WireGuard arrow) and
          throughputMbpsUnderlay (the same hosts, on their own network, no tunnel); and
          podRoutesPerMember (the routes in a host's table that carry pods: its Babel routes, node
          prefixes and aggregates, since pod ranges sit inside node prefixes). Needs root. Removes
          everything it made.

          --nodes N    real nodes (default 6)
          --order K    the Mesh's order (default 2: two sub-meshes joined by bridges)
          --churn S    seconds of churn (default 120)
          --json FILE  also write the JSON to FILE

        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var a = new Arguments(args, new HashSet<string> { "--nodes", "--order", "--churn", "--json", "--repository" }, new HashSet<string> { "--help" });
        if (a.Has("--help"))
        {
            Console.WriteLine(BenchCommand.Usage);
            return 0;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            Console.Error.WriteLine("re6st bench pods: needs root (network namespaces, cgroups, containerd)");
            return 1;
        }

        var nodes = a.Number("--nodes", 6, 2, 26);
        var order = a.Number("--order", 2, 1, 3);
        var churn = a.Number("--churn", 120, 10, 3600);
        var none = CancellationToken.None;
        var clock = Stopwatch.StartNew();
        void Step(string what) => Console.Error.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1}s] {what}");
        await using var cluster = await RealCluster.StartAsync(
            new RealClusterOptions { Repository = a.Text("--repository") ?? CrdsCommand.RepositoryRoot(), Nodes = nodes, Order = order },
            Step,
            _ => { },
            none);

        var workload = await WorkloadPods.StartAsync(cluster, TimeSpan.FromMinutes(3), none);
        var pods = workload.Pods;
        var pairs = pods.Count * (pods.Count - 1);
        Step($"{pods.Count} pods running; waiting (at most 2 min) until every pair pings over both families");
        IReadOnlyList<string> unreachable = [];
        for (var until = DateTime.UtcNow + TimeSpan.FromMinutes(2); DateTime.UtcNow < until; await Task.Delay(2000))
        {
            unreachable = [.. await workload.UnreachablePairsAsync(ipv6: false, none), .. await workload.UnreachablePairsAsync(ipv6: true, none)];
            if (unreachable.Count == 0)
            {
                break;
            }
        }

        // A pair is reachable when both its families answer.
        var podAt = pods.SelectMany(p => new[] { (Address: p.Ipv4, p.Name), (Address: p.Ipv6, p.Name) }).ToDictionary(x => x.Address, x => x.Name, StringComparer.Ordinal);
        var reachablePairs = pairs - unreachable.Select(u => u.Split(" -> ")).Select(x => $"{x[0]}>{podAt[x[1]]}").Distinct(StringComparer.Ordinal).Count();

        Step($"churn: the policy's period at 10 s for {churn} s under pod traffic");
        var before = await ArrowIdsAsync(cluster);
        await cluster.KubectlAsync(["patch", "randomizationpolicy", "default", "--type", "merge", "-p", """{"spec":{"refreshPeriod":"10s"}}"""], none);
        WorkloadPods.PodTraffic traffic;
        try
        {
            traffic = await workload.MeasureAsync(pods[0], pods[^1], TimeSpan.FromSeconds(churn), TimeSpan.FromMilliseconds(200), none);
        }
        finally
        {
            await cluster.KubectlAsync(["patch", "randomizationpolicy", "default", "--type", "merge", "-p", """{"spec":{"refreshPeriod":"5m"}}"""], none);
        }

        var replaced = before.Except(await ArrowIdsAsync(cluster)).Count();

        // Throughput across one WireGuard arrow (the hosts it joins route each other directly over
        // it), against the same two hosts on their own network.
        var meshNodes = await LabSnapshot.MeshNodesAsync(cluster.Admin, cluster.Mesh, none);
        var arrow = meshNodes
            .SelectMany(m => (m.Status?.Arrows ?? []).Where(x => x.Initiated && x.Technology == "wireguard" && x.State == "active").Select(x => (From: m.Spec.Node, To: x.Peer)))
            .FirstOrDefault();
        double? arrowMbps = null, underlayMbps = null;
        if (arrow.From is not null)
        {
            Step($"throughput: pods on {arrow.From} and {arrow.To} (a WireGuard arrow), then the same hosts without a tunnel");
            arrowMbps = await workload.ThroughputMbpsAsync(pods.Single(p => p.Node == arrow.From), pods.Single(p => p.Node == arrow.To), 10, none);
            var hostFrom = await workload.StartHostPodAsync(arrow.From, TimeSpan.FromMinutes(1), none);
            var hostTo = await workload.StartHostPodAsync(arrow.To, TimeSpan.FromMinutes(1), none);
            underlayMbps = await workload.ThroughputMbpsAsync(hostFrom, hostTo, 10, none);
        }
        else
        {
            Step("no active WireGuard arrow: throughput not measured");
        }

        var routes = meshNodes.Select(m => m.Status?.Routes ?? 0).ToList();
        await workload.DeleteAsync(TimeSpan.FromMinutes(2), none);
        await BenchCommand.PrintAsync(
            new PodsBenchResult(
                nodes,
                order,
                Environment.ProcessorCount,
                pods.Count,
                pairs,
                reachablePairs,
                churn,
                traffic.Sent,
                traffic.Lost,
                replaced,
                traffic.TcpResets,
                traffic.TcpError,
                arrowMbps,
                underlayMbps,
                routes.Count > 0 ? Math.Round(routes.Average(), 1) : 0,
                routes.Count > 0 ? routes.Max() : 0,
                Math.Round(clock.Elapsed.TotalSeconds, 1)),
            a);
        return 0;
    }

    private static async Task<HashSet<string>> ArrowIdsAsync(RealCluster cluster) =>
        [.. (await LabSnapshot.MeshNodesAsync(cluster.Admin, cluster.Mesh, CancellationToken.None))
            .SelectMany(m => (m.Status?.Arrows ?? []).Where(x => x.Initiated && x.Id is not null).Select(x => $"{m.Spec.Node}->{x.Peer} {x.Id}"))];
}

/// <summary>The figures of <c>re6st bench pods</c>.</summary>
/// <param name="TcpError">How the long-lived connection broke, when it did.</param>
/// <param name="PodRoutesPerMember">The routes that carry pods in a host's table, the mean over hosts: its Babel routes (node prefixes and aggregates, which hold the pod ranges; no route is a pod's own).</param>
public sealed record PodsBenchResult(
    int Nodes,
    int Order,
    int Cores,
    int Pods,
    int Pairs,
    int ReachablePairs,
    int ChurnSeconds,
    long ChurnSent,
    long ChurnLost,
    int ArrowsReplaced,
    int TcpResets,
    string? TcpError,
    double? ThroughputMbpsArrow,
    double? ThroughputMbpsUnderlay,
    double PodRoutesPerMember,
    int PodRoutesPerMemberMax,
    double ElapsedSeconds);
