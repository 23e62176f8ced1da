using System.Net;
using k8s;
using System.Text.Json;
using System.Xml.Linq;
using k8s.Models;
using Re6st.Agent.Membership;
using Re6st.Contracts;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;
using Re6st.Integration.Tests.Fixtures;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;
using Re6st.Runtime;

namespace Re6st.Integration.Tests;

/// <summary>
/// <c>re6st check</c> and <c>re6st status</c>, the program a user runs, against a real API server
/// through an admin kubeconfig: a mesh planned by the operator (leading through its Lease), whose
/// hosts' statuses are written by the agent's own status code, passes; a host whose agent went
/// silent, and a host left without arrows, fail, named.
/// </summary>
[Collection(ApiServerGroup.Name)]
public sealed class ClusterCommandsTests(ApiServer server)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly Cluster _cluster = new(server);

    [Fact]
    public async Task Check_PassesOnAHealthyMesh_ThenFailsNamingASilentAgent_AndAHostWithoutArrows_AndStatusCountsTheArrows()
    {
        var test = Cluster.NewName("cockpit");
        var nodes = Enumerable.Range(0, 3).Select(i => $"{test}-{i:D3}").ToList();
        await using var op = await OperatorRun.StartAsync(server, leaderElection: true);
        await op.Host.Ready.WaitAsync(Bound);
        var sources = new List<MeshNodeMembershipSource>();
        try
        {
            // The region is on the Nodes only: the default policy reads no label, so no MeshNode copies it.
            await _cluster.CreateNodesAsync(test, 3, new Dictionary<string, string> { ["re6st.io/test"] = test, ["topology.kubernetes.io/region"] = "eu-west" });
            await _cluster.CreateAsync(Cluster.Mesh(test, test), V1Alpha1Mesh.Plural);
            await _cluster.PlannedMeshAsync(test, 3, op.Log);

            // Each host's status as its agent writes it (the agent's own code, heartbeat included):
            // a ring of arrows a→b→c→a, each host's babeld signing with the key the operator made.
            var secret = await server.Admin.CoreV1.ReadNamespacedSecretAsync(KeySecrets.NameFor(test), ApiServer.OperatorNamespace);
            var signing = KeySecrets.SigningKeyOf(secret)!;
            foreach (var node in nodes)
            {
                sources.Add(MeshNodeMembershipSource.Start(server.AgentApi, node, test));
            }

            for (var i = 0; i < 3; i++)
            {
                var (next, previous) = (nodes[(i + 1) % 3], nodes[(i + 2) % 3]);
                await Cluster.EventuallyAsync(() => sources[i].ReadAsync(CancellationToken.None), v => v is { Peers.Count: 2 }, Bound, $"{nodes[i]}: its view", op.Log);
                await sources[i].PublishAsync(Status(nodes[i], [new PublishedArrow($"{i}", next, "root", TunnelTechnology.WireGuard, 51820)], new AcceptedArrow(previous, "root", 1)) with { SigningKey = signing }, CancellationToken.None);
            }

            // Ready means routed: the operator sets it once every host's agent reports arrows and routes.
            var routed = await Cluster.EventuallyAsync(() => _cluster.MeshAsync(test), m => Conditions.IsTrue(m?.Status?.Conditions, Conditions.Ready), Bound, $"mesh {test} Ready", op.Log);
            Assert.Equal((3, 3), (routed!.Status!.ReadyHosts, routed.Status.Arrows));

            var healthy = await CheckAsync(test);
            Assert.True(healthy.Code == 0, healthy.Text);
            Assert.All(healthy.Items, i => Assert.True(i.Outcome == "pass", $"{i.Name}: {i.Outcome}: {i.Reason}\n{healthy.Text}"));
            Assert.Contains(healthy.Items, i => i.Name == "operator" && i.Reason.StartsWith($"led by ", StringComparison.Ordinal));
            Assert.Contains(healthy.Items, i => i.Name == $"mesh {test}: key" && i.Reason.StartsWith($"{signing} signs, made ", StringComparison.Ordinal) && i.Reason.Contains("rotated every 30 d", StringComparison.Ordinal));
            Assert.Contains(healthy.Items, i => i.Name == $"mesh {test}: host keys" && i.Reason == $"each of the 3 live host(s) signs with {signing}");

            // b's babeld signs with a key the mesh does not hold: its neighbours would drop its packets.
            await sources[1].PublishAsync(Status(nodes[1], [new PublishedArrow("1", nodes[2], "root", TunnelTechnology.WireGuard, 51820)], new AcceptedArrow(nodes[0], "root", 1)) with { SigningKey = "k1" }, CancellationToken.None);
            var stray = await CheckAsync(test);
            Assert.Equal(1, stray.Code);
            Assert.Contains(stray.Items, i => i.Name == $"mesh {test}: host keys" && i.Outcome == "fail" && i.Hosts.SequenceEqual([nodes[1]]) && i.Reason.Contains($"{nodes[1]} (k1)", StringComparison.Ordinal));
            await sources[1].PublishAsync(Status(nodes[1], [new PublishedArrow("1", nodes[2], "root", TunnelTechnology.WireGuard, 51820)], new AcceptedArrow(nodes[0], "root", 1)) with { SigningKey = signing }, CancellationToken.None);

            var status = await RunAsync(["status", "--mesh", test, "--json"]);
            Assert.True(status.ExitCode == 0, status.Error);
            var mesh = JsonDocument.Parse(status.Output).RootElement.GetProperty("meshes")[0];
            Assert.Equal((3, 3, 0), (mesh.GetProperty("hosts").GetInt32(), mesh.GetProperty("arrows").GetInt32(), mesh.GetProperty("draining").GetInt32()));
            Assert.Equal(3, mesh.GetProperty("byTechnology").GetProperty("wireguard").GetInt32());
            var table = await RunAsync(["status", "--mesh", test]);
            Assert.Contains($"mesh {test}: Ready · 3 host(s)", table.Output, StringComparison.Ordinal);

            // The picture: a host per MeshNode, a line per arrow its opener lists.
            var svg = Path.Combine(Path.GetTempPath(), $"{test}.svg");
            try
            {
                var graph = await RunAsync(["graph", "--mesh", test, "-o", svg]);
                Assert.True(graph.ExitCode == 0, graph.ToString());
                XNamespace ns = "http://www.w3.org/2000/svg";
                var drawing = XDocument.Load(svg);
                var drawnHosts = drawing.Descendants(ns + "g").Where(g => (string?)g.Attribute("class") == "host").ToList();
                Assert.Equal(nodes, drawnHosts.Select(g => (string)g.Attribute("data-name")!));
                Assert.All(drawnHosts, g => Assert.Contains("region eu-west", g.Value, StringComparison.Ordinal));
                Assert.Equal(
                    Enumerable.Range(0, 3).Select(i => $"{nodes[i]}>{nodes[(i + 1) % 3]}"),
                    drawing.Descendants(ns + "line").Where(l => (string?)l.Attribute("class") == "arrow").Select(l => $"{l.Attribute("data-from")!.Value}>{l.Attribute("data-to")!.Value}").Order(StringComparer.Ordinal));
            }
            finally
            {
                File.Delete(svg);
            }

            // c's agent goes silent: its last heartbeat put 2 minutes back (waiting out
            // StatusHeartbeat.StaleAfter, 90 s, would only make the test longer; the lab's test stops a real agent).
            await sources[2].DisposeAsync();
            sources.RemoveAt(2);
            await server.Admin.CustomObjects.PatchClusterCustomObjectStatusAsync(
                new V1Patch(new { status = new { heartbeat = StatusHeartbeat.Format(DateTimeOffset.UtcNow.AddMinutes(-2)) } }, V1Patch.PatchType.MergePatch),
                Group.Name, Group.Version, V1Alpha1MeshNode.Plural, V1Alpha1MeshNode.NameFor(nodes[2], test));
            var silent = await CheckAsync(test);
            Assert.Equal(1, silent.Code);
            var agents = silent.Items.Single(i => i.Name == $"mesh {test}: agents");
            Assert.Equal("fail", agents.Outcome);
            Assert.Equal([nodes[2]], agents.Hosts);
            Assert.Contains($"{nodes[2]} (last 12", agents.Reason, StringComparison.Ordinal);

            // a and b drop their arrows with c: c has none left.
            await sources[0].PublishAsync(Status(nodes[0], [new PublishedArrow("0", nodes[1], "root", TunnelTechnology.WireGuard, 51820)]), CancellationToken.None);
            await sources[1].PublishAsync(Status(nodes[1], [], new AcceptedArrow(nodes[0], "root", 1)), CancellationToken.None);
            await server.Admin.CustomObjects.PatchClusterCustomObjectStatusAsync(
                new V1Patch(new { status = new { arrows = Array.Empty<object>(), arrowCount = 0 } }, V1Patch.PatchType.MergePatch),
                Group.Name, Group.Version, V1Alpha1MeshNode.Plural, V1Alpha1MeshNode.NameFor(nodes[2], test));
            var cut = await CheckAsync(test);
            var arrows = cut.Items.Single(i => i.Name == $"mesh {test}: arrows");
            Assert.Equal("fail", arrows.Outcome);
            Assert.Equal([nodes[2]], arrows.Hosts);
            Assert.Contains(cut.Items, i => i.Name == $"mesh {test}: partition" && i.Outcome == "fail" && i.Hosts.SequenceEqual([nodes[2]]));
        }
        finally
        {
            foreach (var source in sources)
            {
                await source.DisposeAsync();
            }

            if (await _cluster.MeshAsync(test) is not null)
            {
                await _cluster.DeleteMeshAsync(test);
                await Cluster.EventuallyAsync(() => _cluster.MeshAsync(test), m => m is null, Bound, $"mesh {test} deleted", op.Log);
            }

            foreach (var node in nodes)
            {
                await _cluster.DeleteNodeAsync(node);
            }
        }
    }

    [Fact]
    public async Task Check_WithAKubeconfigThatIsNotThere_IsAUsageError_AndAnUnreachableApiServer_SaysSo()
    {
        var missing = await RunAsync(["check", "--kubeconfig", "/nonexistent/kubeconfig"]);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--kubeconfig: /nonexistent/kubeconfig: no such file", missing.Error, StringComparison.Ordinal);

        var file = Path.Combine(Path.GetTempPath(), $"re6st-unreachable-{Guid.NewGuid():N}.kubeconfig");
        await File.WriteAllTextAsync(file, (await File.ReadAllTextAsync(server.AdminKubeconfig)).Replace(new Uri((await File.ReadAllLinesAsync(server.AdminKubeconfig)).Select(l => l.Trim()).First(l => l.StartsWith("server:", StringComparison.Ordinal))["server:".Length..].Trim()).Authority, "127.0.0.1:1", StringComparison.Ordinal));
        try
        {
            var unreachable = await RunAsync(["check", "--kubeconfig", file]);
            Assert.Equal(2, unreachable.ExitCode);
            Assert.Contains("cannot reach the API server of " + file, unreachable.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private sealed record Item(string Name, string Outcome, string Reason, string[] Hosts);

    private async Task<(int Code, IReadOnlyList<Item> Items, string Text)> CheckAsync(string mesh)
    {
        var result = await RunAsync(["check", "--mesh", mesh, "--json"]);
        var items = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => new Item(e.GetProperty("name").GetString()!, e.GetProperty("outcome").GetString()!, e.GetProperty("reason").GetString()!, [.. e.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()!)]))
            .ToList();
        return (result.ExitCode, items, result.Output + result.Error);
    }

    // The program as a user runs it, with the test API server's admin kubeconfig.
    private Task<CommandResult> RunAsync(string[] args) =>
        CommandRunner.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "re6st.dll"), .. args, .. args.Contains("--kubeconfig") ? Array.Empty<string>() : ["--kubeconfig", server.AdminKubeconfig, "--namespace", ApiServer.OperatorNamespace]], TimeSpan.FromMinutes(1));

    private static PeerStatus Status(string node, IReadOnlyList<PublishedArrow> arrows, params AcceptedArrow[] accepted) =>
        new(node, IPAddress.Parse("fd5e:ff::a"), "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", arrows) { Accepted = accepted, Routes = 2, Technologies = TunnelTechnology.All };
}
