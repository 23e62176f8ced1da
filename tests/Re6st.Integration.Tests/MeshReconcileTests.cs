using k8s;
using Re6st.Contracts;
using Re6st.Core.Addressing;
using Re6st.Integration.Tests.Fixtures;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;

namespace Re6st.Integration.Tests;

[Collection(ApiServerGroup.Name)]
public sealed class MeshReconcileTests(ApiServer server)
{
    private readonly Cluster _cluster = new(server);

    [Fact]
    public async Task Mesh_WithNodes_GetsOneMeshNodePerNode_WithDistinctPrefixesInsideTheRange_AndIsPlanned()
    {
        var test = Cluster.NewName("flat");
        await using var op = await OperatorRun.StartAsync(server);
        var nodes = await _cluster.CreateNodesAsync(test, 12, new Dictionary<string, string> { ["re6st.io/test"] = test });
        await _cluster.CreateNodesAsync(test + "-other", 2, new Dictionary<string, string> { ["re6st.io/test"] = "someone-else" });
        var mesh = Cluster.Mesh(test, test, s => s.Ipv4Range = "10.77.0.0/16");
        await _cluster.CreateAsync(mesh, V1Alpha1Mesh.Plural);

        var ready = await _cluster.PlannedMeshAsync(test, 12, op.Log);
        var meshNodes = await _cluster.MeshNodesAsync(test);
        Assert.Equal(nodes.Order(), meshNodes.Select(m => m.Spec.Node).Order());
        var range = IpPrefix.Parse(mesh.Spec.Ipv6Range);
        var prefixes = meshNodes.Select(m => IpPrefix.Parse(m.Spec.Ipv6Prefix)).ToList();
        Assert.Equal(12, prefixes.Distinct().Count());
        Assert.All(prefixes, p => Assert.True(range.StrictlyContains(p) && p.Length == 64, $"{p} not a /64 inside {range}"));
        Assert.Equal(12, meshNodes.Select(m => m.Spec.Ipv4Prefix).Distinct().Count());
        Assert.All(meshNodes, m =>
        {
            Assert.Equal(V1Alpha1MeshNode.NameFor(m.Spec.Node, test), m.Metadata.Name);
            Assert.Equal(test, m.Metadata.Labels[Group.MeshLabel]);
            Assert.Equal("home", m.Metadata.Labels[Group.SubMeshLabelPrefix + "root"]);
            Assert.Equal("5m0s", m.Spec.Policy.RefreshPeriod);
            Assert.Equal($"{ApiServer.OperatorNamespace}/{KeySecrets.NameFor(test)}", m.Spec.Babel.KeySecret);
        });
        Assert.Equal(1, ready!.Status!.SubMeshCount);
        var secret = await server.Admin.CoreV1.ReadNamespacedSecretAsync(KeySecrets.NameFor(test), ApiServer.OperatorNamespace);
        Assert.Single(secret.Data);
        Assert.Equal(64, secret.Data.Values.Single().Length);
        Assert.Contains(Group.Finalizer, ready.Metadata.Finalizers);

        // What Prometheus scrapes from the operator tells the same story.
        var metrics = await MetricsTextAsync(op);
        Assert.Contains($"re6st_operator_mesh_nodes{{mesh=\"{test}\"}} 12", metrics, StringComparison.Ordinal);
        // Planned, not routed: no agent runs here to report arrows and routes.
        Assert.Contains($"re6st_operator_mesh_ready{{mesh=\"{test}\"}} 0", metrics, StringComparison.Ordinal);
        Assert.Contains($"re6st_operator_mesh_routed_hosts{{mesh=\"{test}\"}} 0", metrics, StringComparison.Ordinal);
        Assert.Contains($"re6st_operator_reconciles_total{{mesh=\"{test}\",result=\"ok\"}}", metrics, StringComparison.Ordinal);
        Assert.Contains("re6st_operator_leader 1", metrics, StringComparison.Ordinal);

        await _cluster.DeleteMeshAsync(test);
        await Cluster.EventuallyAsync(() => _cluster.MeshAsync(test), m => m is null, TimeSpan.FromSeconds(30), $"mesh {test} deleted");
        Assert.Empty(await _cluster.MeshNodesAsync(test));
    }

    [Fact]
    public async Task PodNetwork_GivesEachNodeItsPodRanges_InsideItsPrefixes_AndReportsARangeFromElsewhere()
    {
        var test = Cluster.NewName("pods");
        await using var op = await OperatorRun.StartAsync(server);
        var labels = new Dictionary<string, string> { ["re6st.io/test"] = test };
        var nodes = await _cluster.CreateNodesAsync(test, 4, labels);

        // A node registered with a range from another allocator (kube-controller-manager's
        // --allocate-node-cidrs) before the mesh existed.
        var foreign = $"{test}-foreign";
        await server.Admin.CoreV1.CreateNodeAsync(new k8s.Models.V1Node
        {
            Metadata = new k8s.Models.V1ObjectMeta { Name = foreign, Labels = new Dictionary<string, string>(labels) },
            Spec = new k8s.Models.V1NodeSpec { PodCIDR = "10.244.7.0/24", PodCIDRs = ["10.244.7.0/24"] },
        });
        var mesh = Cluster.Mesh(test, test, s =>
        {
            s.Ipv4Range = "10.79.0.0/16";
            s.Ipv4NodePrefixLength = 24;
            s.PodNetwork = new PodNetworkResource { Enabled = true };
        });
        await _cluster.CreateAsync(mesh, V1Alpha1Mesh.Plural);
        await _cluster.PlannedMeshAsync(test, 5, op.Log);

        var meshNodes = (await _cluster.MeshNodesAsync(test)).ToDictionary(m => m.Spec.Node);
        foreach (var name in nodes)
        {
            var spec = meshNodes[name].Spec;
            var pods = spec.PodNetwork!;
            var v6 = IpPrefix.Parse(pods.Ipv6Range);
            var v4 = IpPrefix.Parse(pods.Ipv4Range!);

            // The upper half of each node prefix: inside it, clear of the node's own (first) address.
            Assert.Equal(IpPrefix.Parse(spec.Ipv6Prefix).Subprefix(1, 65), v6);
            Assert.Equal(IpPrefix.Parse(spec.Ipv4Prefix!).Subprefix(1, 25), v4);
            Assert.Equal(mesh.Spec.Ipv6Range, pods.MeshIpv6Range);
            Assert.Equal("10.79.0.0/16", pods.MeshIpv4Range);

            // This API server (1.20, without the IPv6DualStack feature gate) keeps one range per
            // node, the first: IPv4. The node's pods get both families from its CNI configuration.
            var node = await Cluster.EventuallyAsync(() => server.Admin.CoreV1.ReadNodeAsync(name), n => n.Spec?.PodCIDRs?.Count > 0, TimeSpan.FromSeconds(20), $"{name}: podCIDRs", op.Log);
            Assert.Equal([v4.ToString()], node.Spec.PodCIDRs);
            Assert.Equal(v4.ToString(), node.Spec.PodCIDR);
        }

        // No two nodes share an address.
        var all = meshNodes.Values.SelectMany(m => new[] { m.Spec.PodNetwork!.Ipv6Range, m.Spec.PodNetwork.Ipv4Range! }).Select(IpPrefix.Parse).ToList();
        Assert.All(all, a => Assert.Single(all, b => a.Overlaps(b)));

        // The foreign range is reported (Degraded, naming the node and both ranges), not overwritten;
        // the node still gets re6st's ranges in its MeshNode.
        var degraded = await Cluster.EventuallyAsync(
            () => _cluster.MeshAsync(test),
            m => Conditions.IsTrue(m?.Status?.Conditions, Conditions.Degraded),
            TimeSpan.FromSeconds(20),
            "Degraded by the foreign pod range",
            op.Log);
        var condition = degraded!.Status!.Conditions!.Single(c => c.Type == Conditions.Degraded);
        Assert.Equal("PodRangeConflict", condition.Reason);
        Assert.Contains($"node {foreign} has podCIDRs 10.244.7.0/24 from elsewhere, not re6st's {meshNodes[foreign].Spec.PodNetwork!.Ipv4Range},", condition.Message, StringComparison.Ordinal);
        Assert.Contains("--allocate-node-cidrs=false", condition.Message, StringComparison.Ordinal);
        Assert.True(Conditions.IsTrue(degraded.Status.Conditions, Conditions.Planned));
        Assert.Equal(["10.244.7.0/24"], (await server.Admin.CoreV1.ReadNodeAsync(foreign)).Spec.PodCIDRs);

        // Once the foreign node leaves, the mesh is no longer Degraded, and a pass writes nothing more.
        await _cluster.DeleteNodeAsync(foreign);
        await Cluster.EventuallyAsync(() => _cluster.MeshAsync(test), m => !Conditions.IsTrue(m?.Status?.Conditions, Conditions.Degraded), TimeSpan.FromSeconds(20), "not Degraded", op.Log);
        await op.Host.Meshes.ReconcileAsync(test, CancellationToken.None);
        var writes = op.Host.Meshes.Writes;
        await op.Host.Meshes.ReconcileAsync(test, CancellationToken.None);
        Assert.Equal(writes, op.Host.Meshes.Writes);
        await CleanUpAsync(test, op);
    }

    private static async Task<string> MetricsTextAsync(OperatorRun op)
    {
        using var stream = new MemoryStream();
        await op.Host.Metrics.Registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public async Task OperatorRestart_KeepsEveryAllocation_AndASecondPassWritesNothing()
    {
        var test = Cluster.NewName("restart");
        await _cluster.CreateNodesAsync(test, 40, new Dictionary<string, string> { ["re6st.io/test"] = test });
        await _cluster.CreateAsync(Cluster.Mesh(test, test, s => { s.Order = 2; s.SubMeshes = [4]; s.Ipv4Range = "10.78.0.0/16"; }), V1Alpha1Mesh.Plural);
        Dictionary<string, string> before;
        await using (var first = await OperatorRun.StartAsync(server))
        {
            await _cluster.PlannedMeshAsync(test, 40, first.Log);
            before = Allocation(await _cluster.MeshNodesAsync(test));
        }

        var versions = (await _cluster.MeshNodesAsync(test)).ToDictionary(m => m.Metadata.Name, m => m.Metadata.ResourceVersion);
        var meshVersion = (await _cluster.MeshAsync(test))!.Metadata.ResourceVersion;
        await using (var second = await OperatorRun.StartAsync(server))
        {
            // The new operator reconciles every mesh on start (and every 2 s); after it has, nothing changed.
            await Cluster.EventuallyAsync(() => Task.FromResult(second.Host.Meshes.Passes), n => n >= 2, TimeSpan.FromSeconds(20), "two passes of the new operator", second.Log);
            Assert.Equal(before, Allocation(await _cluster.MeshNodesAsync(test)));
            Assert.Equal(versions, (await _cluster.MeshNodesAsync(test)).ToDictionary(m => m.Metadata.Name, m => m.Metadata.ResourceVersion));
            Assert.Equal(meshVersion, (await _cluster.MeshAsync(test))!.Metadata.ResourceVersion);

            var writes = second.Host.Meshes.Writes;
            await second.Host.Meshes.ReconcileAsync(test, CancellationToken.None);
            await second.Host.Meshes.ReconcileAsync(test, CancellationToken.None);
            Assert.Equal(writes, second.Host.Meshes.Writes);
            await CleanUpAsync(test, second);
        }
    }

    [Fact]
    public async Task NodesJoiningAndLeaving_NeverRenumberTheOthers()
    {
        var test = Cluster.NewName("churn");
        var labels = new Dictionary<string, string> { ["re6st.io/test"] = test };
        await using var op = await OperatorRun.StartAsync(server);
        var nodes = await _cluster.CreateNodesAsync(test, 20, labels);
        await _cluster.CreateAsync(Cluster.Mesh(test, test, s => { s.Order = 2; s.SubMeshes = [3]; }), V1Alpha1Mesh.Plural);
        await _cluster.PlannedMeshAsync(test, 20, op.Log);
        var before = Allocation(await _cluster.MeshNodesAsync(test));

        var leaving = nodes.Take(4).ToList();
        foreach (var n in leaving)
        {
            await _cluster.DeleteNodeAsync(n);
        }

        await _cluster.CreateNodesAsync(test, 6, labels, start: 100);
        await _cluster.PlannedMeshAsync(test, 22, op.Log);
        var after = await Cluster.EventuallyAsync(() => _cluster.MeshNodesAsync(test), l => l.Count == 22, TimeSpan.FromSeconds(30), "22 MeshNodes", op.Log);
        var now = Allocation(after);
        foreach (var n in nodes.Skip(4))
        {
            Assert.Equal(before[n], now[n]);
        }

        Assert.All(leaving, n => Assert.False(now.ContainsKey(n), $"{n} left but still has a MeshNode"));
        Assert.Equal(22, now.Values.Distinct().Count());
        await CleanUpAsync(test, op);
    }

    [Fact]
    public async Task Order2_SplitsTheRange_ElectsTheBridgeShare_AndReelectsOverTime()
    {
        var test = Cluster.NewName("order2");
        await using var op = await OperatorRun.StartAsync(server);
        await _cluster.CreateNodesAsync(test, 60, new Dictionary<string, string> { ["re6st.io/test"] = test });
        var mesh = Cluster.Mesh(test, test, s =>
        {
            s.Order = 2;
            s.SubMeshes = [6];
            s.BridgeShare = 0.2;
            s.BridgeRenewShare = 1;
            s.BridgeReelectionPeriod = "2s";
        });
        await _cluster.CreateAsync(mesh, V1Alpha1Mesh.Plural);
        var ready = await _cluster.PlannedMeshAsync(test, 60, op.Log);
        var status = ready!.Status!;
        Assert.Equal(6, status.SubMeshCount);
        Assert.Equal(6, status.SubMeshes!.Count);
        var range = IpPrefix.Parse(mesh.Spec.Ipv6Range);
        var subRanges = status.SubMeshes.Select(s => IpPrefix.Parse(s.Ipv6Range)).ToList();
        Assert.All(subRanges, r => Assert.True(range.StrictlyContains(r) && r.Length == 51, $"{r} is not a /51 of {range}"));
        Assert.Equal(6, subRanges.Distinct().Count());
        Assert.Equal(60, status.SubMeshes.Sum(s => s.Members));

        // bridgeShare 0.2 of each sub-mesh (at least minBridges 2), each also in a sibling sub-mesh.
        // A re-election (every 2 s here) rewrites the MeshNodes one by one, so a listing taken
        // during one mixes old and new bridges: the counts are checked on a settled listing.
        static int ExpectedBridges(int members) => Math.Max(2, (int)Math.Round(0.2 * members, MidpointRounding.AwayFromZero));
        var meshNodes = await Cluster.EventuallyAsync(
            () => _cluster.MeshNodesAsync(test),
            l => status.SubMeshes.All(sub => l.Count(m => m.Spec.HomeSubMesh == sub.Id && m.Spec.Role == "bridge") == ExpectedBridges(l.Count(m => m.Spec.HomeSubMesh == sub.Id))),
            TimeSpan.FromSeconds(30),
            "a listing between two re-elections",
            op.Log);
        foreach (var sub in status.SubMeshes)
        {
            var members = meshNodes.Where(m => m.Spec.HomeSubMesh == sub.Id).ToList();
            Assert.All(members, m => Assert.True(IpPrefix.Parse(sub.Ipv6Range).Contains(IpPrefix.Parse(m.Spec.Ipv6Prefix))));
            Assert.Equal(ExpectedBridges(members.Count), members.Count(m => m.Spec.Role == "bridge"));
        }

        var bridges = Bridges(meshNodes);
        Assert.Equal(status.Bridges, bridges.Count);
        Assert.All(meshNodes.Where(m => m.Spec.Role == "bridge"), m =>
        {
            var other = Assert.Single(m.Spec.Memberships, x => x.Role == "bridge");
            Assert.NotEqual(m.Spec.HomeSubMesh, other.SubMesh);
            Assert.Contains(other.Announce, a => a == status.SubMeshes.Single(s => s.Id == m.Spec.HomeSubMesh).Ipv6Range);
            Assert.Contains(other.DenyOut, f => f.Match == "moreSpecific");
            Assert.Equal("bridge", m.Metadata.Labels[Group.SubMeshLabelPrefix + other.SubMesh]);
        });

        // Every resync (2 s here) past the 2 s re-election period redraws them all (renewShare 1).
        var later = await Cluster.EventuallyAsync(
            () => _cluster.MeshNodesAsync(test),
            l => !Bridges(l).SetEquals(bridges),
            TimeSpan.FromSeconds(30),
            "bridges re-elected",
            op.Log);
        Assert.Equal(Allocation(meshNodes), Allocation(later));
        await CleanUpAsync(test, op);
    }

    [Fact]
    public async Task KeyRotation_SignsWithTheNewKey_AcceptsTheOld_ThenDropsIt()
    {
        var test = Cluster.NewName("keys");
        await using var op = await OperatorRun.StartAsync(server);
        await _cluster.CreateNodesAsync(test, 3, new Dictionary<string, string> { ["re6st.io/test"] = test });
        await _cluster.CreateAsync(Cluster.Mesh(test, test, s => s.Babel = new BabelSpec { KeyRotationPeriod = "2s" }), V1Alpha1Mesh.Plural);
        await _cluster.PlannedMeshAsync(test, 3, op.Log);
        var first = await server.Admin.CoreV1.ReadNamespacedSecretAsync(KeySecrets.NameFor(test), ApiServer.OperatorNamespace);
        var firstKey = Assert.Single(first.Data).Key;
        Assert.Equal(firstKey, first.Metadata.Annotations[KeySecrets.SigningAnnotation]);

        var second = await Cluster.EventuallyAsync(
            () => server.Admin.CoreV1.ReadNamespacedSecretAsync(KeySecrets.NameFor(test), ApiServer.OperatorNamespace),
            s => s.Data.Count == 2,
            TimeSpan.FromSeconds(20),
            "a second key",
            op.Log);
        Assert.Contains(firstKey, second.Data.Keys);
        var secondKey = second.Metadata.Annotations[KeySecrets.SigningAnnotation];
        Assert.NotEqual(firstKey, secondKey);

        var third = await Cluster.EventuallyAsync(
            () => server.Admin.CoreV1.ReadNamespacedSecretAsync(KeySecrets.NameFor(test), ApiServer.OperatorNamespace),
            s => !s.Data.ContainsKey(firstKey),
            TimeSpan.FromSeconds(20),
            "the first key dropped",
            op.Log);
        Assert.Equal(2, third.Data.Count);
        Assert.Contains(secondKey, third.Data.Keys);
        await CleanUpAsync(test, op);
        await Cluster.EventuallyAsync(
            async () => (await server.Admin.CoreV1.ListNamespacedSecretAsync(ApiServer.OperatorNamespace)).Items.Any(s => s.Metadata.Name == KeySecrets.NameFor(test)),
            present => !present,
            TimeSpan.FromSeconds(20),
            "the key Secret deleted with the mesh");
    }

    private static Dictionary<string, string> Allocation(IEnumerable<V1Alpha1MeshNode> meshNodes) =>
        meshNodes.ToDictionary(m => m.Spec.Node, m => $"{m.Spec.HomeSubMesh} {m.Spec.Ipv6Prefix} {m.Spec.Ipv4Prefix}");

    private static HashSet<string> Bridges(IEnumerable<V1Alpha1MeshNode> meshNodes) =>
        [.. meshNodes.SelectMany(m => m.Spec.Memberships.Where(x => x.Role == "bridge").Select(x => $"{m.Spec.Node}->{x.SubMesh}"))];

    private async Task CleanUpAsync(string mesh, OperatorRun op)
    {
        await _cluster.DeleteMeshAsync(mesh);
        await Cluster.EventuallyAsync(() => _cluster.MeshAsync(mesh), m => m is null, TimeSpan.FromSeconds(30), $"mesh {mesh} deleted", op.Log);
    }
}
