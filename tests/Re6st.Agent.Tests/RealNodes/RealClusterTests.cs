using k8s;
using Re6st.Lab.Kube;
using Re6st.Lab.Netns;
using Re6st.Operator.Tests.Fixtures;
using Xunit.Abstractions;

namespace Re6st.Agent.Tests.RealNodes;

/// <summary>
/// re6st as a cluster runs it, end to end on one real cluster: real nodes (containerd, kubelet,
/// kube-proxy in each host's namespaces), images built here, <c>helm install</c> of helm/re6st (the
/// operator and every agent are pods with their mounted, pod-bound service-account tokens), then
/// the day-2 operations a user performs: <c>helm upgrade</c> under traffic, an agent pod deleted,
/// <c>helm uninstall</c>. Alone: a real cluster takes the machine's two cores while it starts.
/// </summary>
[Collection(nameof(RealClusterTests))]
[CollectionDefinition(nameof(RealClusterTests), DisableParallelization = true)]
public sealed class RealClusterTests(ITestOutputHelper output)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact(Timeout = 1_800_000)]
    public async Task HelmInstallOnRealNodes_ThenUpgradeUnderPings_AgentPodDeleted_AndUninstall_LeaveAWorkingMeshThenNothing()
    {
        var started = DateTime.UtcNow;
        void Say(string line) => output.WriteLine($"[{(DateTime.UtcNow - started).TotalSeconds,6:F1}s] {line}");
        await using var cluster = await RealCluster.StartAsync(new RealClusterOptions { Repository = Repository.Root, Nodes = 4 }, Say, Say, None);

        // Installed: one agent pod per node and the operator, Running, every pair pinging (StartAsync waited for it).
        var agents = await cluster.PodsAsync("agent", None);
        Assert.Equal(["a", "b", "c", "d"], agents.Where(p => p.Status.Phase == "Running").Select(p => p.Spec.NodeName).Order());
        Assert.Contains(await cluster.PodsAsync("operator", None), p => p.Status.Phase == "Running");

        // The agent reads its mounted, pod-bound token: it runs in the cluster the way users run it.
        Assert.All(agents, p => Assert.Contains(p.Spec.Volumes, v => v.Projected?.Sources?.Any(s => s.ServiceAccountToken is not null) == true));
        var logs = await cluster.KubectlAsync(["-n", RealCluster.Namespace, "logs", agents[0].Metadata.Name, "--tail", "5"], None);
        Say($"kubectl logs {agents[0].Metadata.Name}: {logs.Split('\n').Length} lines");

        // helm upgrade with a changed value rolls the agents host by host while every pair pings.
        var hosts = await cluster.MeshHostsAsync(None);
        var pings = hosts.SelectMany(f => hosts.Where(t => t != f).Select(t => ContinuousPing.Start(f, t, TimeSpan.FromMilliseconds(200)))).ToList();
        await Task.Delay(TimeSpan.FromSeconds(3));
        Say("helm upgrade with a changed agent annotation");
        await cluster.HelmAsync(["upgrade", RealCluster.Release, Repository.PathOf("helm", "re6st"), "--namespace", RealCluster.Namespace, "--reuse-values", "--set", "agent.podAnnotations.rolled=once"], None);
        await cluster.KubectlAsync(["-n", RealCluster.Namespace, "rollout", "status", "daemonset/re6st-agent-demo", "--timeout", "300s"], None);
        await Task.Delay(TimeSpan.FromSeconds(10));
        var figures = await Task.WhenAll(pings.Select(p => p.StopAsync()));
        foreach (var ping in pings)
        {
            await ping.DisposeAsync();
        }

        var sent = figures.Sum(f => f.Sent);
        var lost = figures.Sum(f => f.Lost);
        Say($"pings during the upgrade: {lost} lost of {sent}; longest outage {figures.Max(f => f.LongestOutage).TotalSeconds:F1} s");
        var rolled = await cluster.PodsAsync("agent", None);
        Assert.All(rolled, p => Assert.True(p.Metadata.Annotations?.TryGetValue("rolled", out var value) == true && value == "once", $"{p.Metadata.Name} was not rolled"));
        Assert.True(sent > 1000, $"{sent} pings");

        // CAVEAT: the issue's goal is 0.1 % lost while the agents roll. Today an agent's tunnels and
        // babeld die with its pod, and its peers' arrows to it are cut and re-made: the figure is
        // printed (and recorded in docs/benchmarks.md), and what is asserted is that the mesh heals.
        await cluster.WaitAllPairsPingAsync(TimeSpan.FromMinutes(2), None);

        // An agent pod deleted is recreated by its DaemonSet; the mesh comes back whole.
        var victim = rolled.Single(p => p.Spec.NodeName == "b");
        Say($"kubectl delete pod {victim.Metadata.Name}");
        await cluster.KubectlAsync(["-n", RealCluster.Namespace, "delete", "pod", victim.Metadata.Name, "--wait=true"], None);
        await cluster.WaitPodsRunningAsync(TimeSpan.FromMinutes(2), None);
        await cluster.WaitAllPairsPingAsync(TimeSpan.FromMinutes(2), None);
        Assert.DoesNotContain(await cluster.PodsAsync("agent", None), p => p.Metadata.Uid == victim.Metadata.Uid);

        // A wrong setting: an unprivileged agent cannot have babeld set its sysctls. Its pod's status
        // says what it lacks, then setting it right brings the mesh back.
        Say("helm upgrade --set agent.privileged=false");
        await cluster.HelmAsync(["upgrade", RealCluster.Release, Repository.PathOf("helm", "re6st"), "--namespace", RealCluster.Namespace, "--reuse-values", "--set", "agent.privileged=false"], None);
        var told = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        string? message = null;
        while (message is null && DateTime.UtcNow < told)
        {
            await Task.Delay(1000);
            message = (await cluster.PodsAsync("agent", None))
                .SelectMany(p => p.Status?.ContainerStatuses ?? [])
                .Select(c => c.LastState?.Terminated?.Message ?? c.State?.Terminated?.Message)
                .FirstOrDefault(m => m?.Contains("lacks what the agent needs", StringComparison.Ordinal) == true);
        }

        Say($"the unprivileged agent's termination message: {message}");
        Assert.NotNull(message);
        Assert.Contains("/proc/sys", message, StringComparison.Ordinal);
        await cluster.HelmAsync(["upgrade", RealCluster.Release, Repository.PathOf("helm", "re6st"), "--namespace", RealCluster.Namespace, "--reuse-values", "--set", "agent.privileged=true"], None);
        await cluster.KubectlAsync(["-n", RealCluster.Namespace, "rollout", "status", "daemonset/re6st-agent-demo", "--timeout", "300s"], None);
        await cluster.WaitAllPairsPingAsync(TimeSpan.FromMinutes(2), None);

        // A node whose kubelet hangs turns NotReady; the mesh keeps routing among the others (and
        // through it: its agent's pod still runs).
        var hung = cluster.Nodes.Single(n => n.Host.Name == "d");
        Say("kubelet of d stopped (SIGSTOP)");
        await hung.FreezeKubeletAsync(true);
        try
        {
            var notReady = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (KubeNode.IsReady(await cluster.Admin.CoreV1.ReadNodeAsync("d")) && DateTime.UtcNow < notReady)
            {
                await Task.Delay(2000);
            }

            Assert.False(KubeNode.IsReady(await cluster.Admin.CoreV1.ReadNodeAsync("d")), "node d still Ready 120 s after its kubelet stopped");
            Say("node d is NotReady");
            var others = (await cluster.MeshHostsAsync(None)).Where(h => h.Name != "d").ToList();
            Assert.Empty(await Re6st.Lab.Cluster.LabCluster.UnreachablePairsAsync(others));
        }
        finally
        {
            await hung.FreezeKubeletAsync(false);
        }

        await cluster.WaitAllPairsPingAsync(TimeSpan.FromMinutes(2), None);

        // helm uninstall leaves nothing of re6st on the hosts; the CRDs stay, as the release's notes say.
        var notes = await cluster.HelmAsync(["get", "notes", RealCluster.Release, "--namespace", RealCluster.Namespace], None);
        Assert.Contains("keeps the CRDs", notes, StringComparison.Ordinal);
        Say($"helm uninstall: {await cluster.HelmAsync(["uninstall", RealCluster.Release, "--namespace", RealCluster.Namespace], None)}");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        IReadOnlyList<string> left;
        while ((left = [.. (await cluster.PodsAsync("agent", None)).Select(p => $"pod {p.Metadata.Name}"), .. await cluster.LeftoversAsync(None)]).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
        }

        Assert.Empty(left);
        Assert.Contains("meshes.re6st.io", await cluster.KubectlAsync(["get", "crds"], None));
    }
}
