using System.CommandLine;
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
    public static Command Create()
    {
        var nodes = CliOptions.Number("--nodes", "N", "real nodes", 6, 2, 26);
        var order = CliOptions.Number("--order", "K", "the Mesh's order (2: two sub-meshes joined by bridges)", 2, 1, 3);
        var churn = CliOptions.Number("--churn", "S", "seconds of churn", 120, 10, 3600);
        var json = CliOptions.JsonFile();
        var repository = CliOptions.Repository();
        var command = new Command("pods", """
            Application pods over the mesh on real nodes: reachability, loss under churn, throughput.

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
            """).With(nodes, order, churn, json, repository);
        command.SetAction((r, token) => RunAsync(r.GetValue(nodes), r.GetValue(order), r.GetValue(churn), r.RepositoryOf(repository), r.GetValue(json)));
        return command;
    }

    private static async Task<int> RunAsync(int nodes, int order, int churn, string repository, string? jsonPath)
    {
        BenchCommand.NeedRoot("network namespaces, cgroups, containerd");
        var none = CancellationToken.None;
        await using var progress = await StepProgress.StartAsync();
        void Step(string what) => progress.Step(what);
        await using var cluster = await RealCluster.StartAsync(
            new RealClusterOptions { Repository = repository, Nodes = nodes, Order = order },
            Step,
            _ => { },
            none);

        var figures = await PodNetworkMeasure.RunAsync(cluster, order, churn, throughput: true, Step, none);
        await progress.DisposeAsync();
        await BenchCommand.PrintAsync(figures, jsonPath);
        return 0;
    }
}
