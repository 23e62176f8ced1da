using Re6st.Lab.Kube;
using Re6st.Operator.Tests.Fixtures;
using Xunit.Abstractions;

namespace Re6st.Agent.Tests.RealNodes;

/// <summary>
/// re6st as a cluster runs it: real nodes (containerd, kubelet, kube-proxy in each host's
/// namespaces), images built here, and <c>helm install</c> of helm/re6st; the operator and every
/// agent are pods with their mounted service-account tokens. Alone: a real cluster takes the
/// machine's two cores while it starts.
/// </summary>
[Collection(nameof(RealClusterTests))]
[CollectionDefinition(nameof(RealClusterTests), DisableParallelization = true)]
public sealed class RealClusterTests(ITestOutputHelper output)
{
    [Fact(Timeout = 1_200_000)]
    public async Task HelmInstallOnRealNodes_RunsTheOperatorAndOneAgentPodPerNode_AndEveryPairPings()
    {
        var started = DateTime.UtcNow;
        void Say(string line) => output.WriteLine($"[{(DateTime.UtcNow - started).TotalSeconds,6:F1}s] {line}");
        await using var cluster = await RealCluster.StartAsync(new RealClusterOptions { Repository = Repository.Root, Nodes = 4 }, Say, Say, CancellationToken.None);

        var agents = await cluster.PodsAsync("agent", CancellationToken.None);
        Assert.Equal(4, agents.Count(p => p.Status.Phase == "Running"));
        Assert.Equal(["a", "b", "c", "d"], agents.Select(p => p.Spec.NodeName).Order());
        Assert.Contains(await cluster.PodsAsync("operator", CancellationToken.None), p => p.Status.Phase == "Running");

        // The agent reads its mounted, pod-bound token: it runs in the cluster the way users run it.
        Assert.All(agents, p => Assert.Contains(p.Spec.Volumes, v => v.Projected?.Sources?.Any(s => s.ServiceAccountToken is not null) == true));
    }
}
