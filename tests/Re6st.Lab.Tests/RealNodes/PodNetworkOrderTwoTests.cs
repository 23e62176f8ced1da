using Re6st.Lab.Kube;
using Re6st.Testing;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.RealNodes;

/// <summary>
/// The pod network on an order-2 mesh of real nodes in three regions, measured the way
/// <c>re6st bench pods</c> measures it, without its churn and throughput (RealClusterTests churns
/// under pod traffic at order 1; the bench records both at order 2). Alone, like every real cluster.
/// </summary>
[Collection(nameof(RealClusterTests))]
public sealed class PodNetworkOrderTwoTests(ITestOutputHelper output)
{
    [Fact(Timeout = 900_000)]
    public async Task PodsOnAnOrderTwoMesh_ReachEveryOtherPod_AndMembersHoldTheirSubMeshAndAggregatesOnly()
    {
        var started = DateTime.UtcNow;
        void Say(string line) => output.WriteLine($"[{(DateTime.UtcNow - started).TotalSeconds,6:F1}s] {line}");
        await using var cluster = await RealCluster.StartAsync(new RealClusterOptions { Repository = Repository.Root, Nodes = 6, Order = 2 }, Say, Say, CancellationToken.None);

        var result = await PodNetworkMeasure.RunAsync(cluster, order: 2, churnSeconds: 0, throughput: false, Say, CancellationToken.None);
        Say(System.Text.Json.JsonSerializer.Serialize(result));

        Assert.Equal(6, result.Pods);
        Assert.True(result.ReachablePairs == result.Pairs, $"{result.ReachablePairs} of {result.Pairs} pairs of pods reachable: {string.Join(", ", result.UnreachablePairs)}");

        // Two sub-meshes: each host's Babel routes are exactly those its place predicts (no route
        // is a pod's own), and a plain member holds fewer than an order-1 mesh's host would (the
        // other 5 hosts' prefixes, both families), which is the point of the order-2 mesh.
        Assert.Empty(result.MembersOffPrediction);
        Assert.Equal(6, result.Members + result.Bridges);
        Assert.True(result.Members >= 1, "no plain member: every host is a bridge");
        Assert.Equal(result.PredictedRoutesPerMember, result.PodRoutesPerMember);
        Assert.True(result.PodRoutesPerMemberMax < 2 * (6 - 1), $"a member holds {result.PodRoutesPerMemberMax} routes: as many as in an order-1 mesh");
    }
}
