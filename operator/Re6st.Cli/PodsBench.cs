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
          every other over IPv4 and IPv6); podRoutesPerMember (the routes in a host's table that
          carry pods: its Babel routes, node prefixes and aggregates, since pod ranges sit inside
          node prefixes), predictedRoutesPerMember and membersOffPrediction (each host's table
          against its place in the n-order mesh); churnSeconds, churnSent, churnLost (both
          families; churnLostIpv4, churnLostIpv6), arrowsReplaced and tcpResets (S seconds with the
          policy's period at 10 s, every pod pinging every other 5 times a second and one TCP
          connection carrying a line every half second); throughputMbpsArrow (iperf3 between pods on
          two hosts joined by a WireGuard arrow) and throughputMbpsUnderlay (the same hosts, on
          their own network, no tunnel). Goal: reachablePairs == pairs, churnLost/churnSent
          <= 0.001, tcpResets == 0. Needs root. Removes everything it made.

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

        await BenchCommand.PrintAsync(await PodNetworkMeasure.RunAsync(cluster, order, churn, throughput: true, Step, none), a);
        return 0;
    }
}
