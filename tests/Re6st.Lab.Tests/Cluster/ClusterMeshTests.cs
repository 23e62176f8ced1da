using k8s;
using k8s.Models;
using Re6st.Agent.Lifecycle;
using Re6st.Contracts;
using Re6st.Core.Addressing;
using Re6st.Lab;
using Re6st.Lab.Agents;
using Re6st.Lab.Cluster;
using Re6st.Lab.Netns;
using Re6st.Operator.Resources;
using Re6st.Testing;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Cluster;

/// <summary>
/// The whole chain on one machine: a real kube-apiserver + etcd, the operator as its own process
/// with its least-privilege token, and the real agent program on each host (a network namespace)
/// reading its MeshNode with the agent's token, as a DaemonSet pod would.
/// </summary>
public sealed class ClusterMeshTests(ITestOutputHelper output)
{
    private const string Mesh = "lab";

    [Fact]
    public async Task AgentsFedByMeshNodes_ConvergeAndEveryPairPings_AndPublishTheirArrows()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        await using var api = new LocalApiServer(Repository.Root, lab.PathFor("api"));
        await api.StartAsync();
        var operatorMetrics = AgentMesh.FreePort();
        using var operatorProcess = ProcessRunner.StartLogged(
            "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "re6st-operator.dll"), "--kubeconfig", api.OperatorKubeconfig, "--namespace", LocalApiServer.OperatorNamespace, "--no-leader-election", "--metrics", $"127.0.0.1:{operatorMetrics}"],
            lab.PathFor("operator.log"));
        try
        {
            var mesh = await AgentMesh.CreateEmptyAsync(lab);
            var hosts = new List<LabHost>();
            foreach (var name in new[] { "a", "b", "c", "d", "e" })
            {
                var host = await mesh.AddUnderlayHostAsync(name);
                hosts.Add(host);
                var labels = new Dictionary<string, string> { ["re6st.io/mesh"] = "enabled" };
                await api.Admin.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = name, Labels = labels } });
            }

            await api.Admin.CustomObjects.CreateClusterCustomObjectAsync(
                new V1Alpha1RandomizationPolicy
                {
                    Metadata = new V1ObjectMeta { Name = "default" },
                    Spec = new PolicySpecResource { ArrowsPerNode = 2, SmallMeshSize = 0, RefreshPeriod = "10m" },
                },
                Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural);
            await api.Admin.CustomObjects.CreateClusterCustomObjectAsync(
                new V1Alpha1Mesh
                {
                    Metadata = new V1ObjectMeta { Name = Mesh },
                    Spec = new MeshSpecResource
                    {
                        Ipv6Range = "fd5e:7000::/48",
                        Ipv4Range = "10.77.0.0/16",
                        Order = 1,
                        NodeSelector = new LabelSelectorResource { MatchLabels = new Dictionary<string, string> { ["re6st.io/mesh"] = "enabled" } },
                        Babel = new BabelSpec { HelloInterval = "1s" },
                    },
                },
                Group.Name, Group.Version, V1Alpha1Mesh.Plural);

            foreach (var host in hosts)
            {
                mesh.Adopt(AgentProcess.Start(lab, host, AgentMesh.UnderlayAddress(host).ToString(), AgentMesh.FreePort(), ["--kubeconfig", api.AgentKubeconfig, "--mesh", Mesh]));
            }

            // Every host pings every other at the address the operator allocated it (the agent puts it on lo).
            var nodes = await MeshNodesAsync(api.Admin);
            Assert.Equal(5, nodes.Count);
            var prefixes = nodes.ToDictionary(n => n.Spec.Node, n => IpPrefix.Parse(n.Spec.Ipv6Prefix));
            List<LabHost> addressed = [.. hosts.Select(h => h with { Ipv6Prefix = prefixes[h.Name] })];
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            IReadOnlyList<string> failed;
            while ((failed = await LabCluster.UnreachablePairsAsync(addressed)).Count > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000);
            }

            Assert.True(failed.Count == 0, $"no full connectivity through MeshNodes: {string.Join(", ", failed)}\noperator: {Tail(lab.PathFor("operator.log"))}");

            // What each agent wrote into its MeshNode's status: every arrow a host opened is listed,
            // as accepted, by the peer it goes to. A status follows the host's state by a tick and a
            // write, so it is read until every host publishes its converged table (bounded).
            var settled = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while ((nodes = await MeshNodesAsync(api.Admin)).Any(n => n.Status is not { Routes: >= 4 }) && DateTime.UtcNow < settled)
            {
                await Task.Delay(500);
            }

            var byNode = nodes.ToDictionary(n => n.Spec.Node);
            foreach (var node in nodes)
            {
                var status = node.Status;
                // Each host opens up to 2 arrows to peers it is not yet connected to (so maybe none, when
                // all 4 opened one to it), hence every host ends with at least 2.
                Assert.True(status is { PublicKey.Length: > 0, Routes: >= 4, Arrows.Count: >= 2 }, $"{node.Metadata.Name}: {KubernetesJson.Serialize(status)}");
                Assert.InRange(status!.Arrows!.Count(a => a.Initiated), 0, 2);
                foreach (var arrow in status.Arrows!.Where(a => a.Initiated))
                {
                    Assert.False(string.IsNullOrEmpty(arrow.Id));
                    Assert.Contains(byNode[arrow.Peer].Status!.Arrows!, a => !a.Initiated && a.Peer == node.Spec.Node);
                }
            }

            // The operator's own metrics endpoint, as Prometheus scrapes it.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var scraped = await http.GetStringAsync(new Uri($"http://127.0.0.1:{operatorMetrics}/metrics"));
            Assert.Contains($"re6st_operator_mesh_nodes{{mesh=\"{Mesh}\"}} 5", scraped, StringComparison.Ordinal);
        }
        finally
        {
            operatorProcess.Kill();
            await operatorProcess.WaitForExitAsync();
        }
    }

    private static async Task<List<V1Alpha1MeshNode>> MeshNodesAsync(Kubernetes client)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var list = await LabSnapshot.MeshNodesAsync(client, Mesh, CancellationToken.None);
            if (list.Count == 5 || DateTime.UtcNow > deadline)
            {
                return [.. list];
            }

            await Task.Delay(500);
        }
    }

    private static string Tail(string file) => File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(20)) : "";
}
