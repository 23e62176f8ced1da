using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Integration.Tests.Fixtures;
using Re6st.Lab;
using Re6st.Operator.Crds;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;
using Re6st.Operator.Runtime;
using Re6st.Runtime;
using Re6st.Testing;

namespace Re6st.Integration.Tests;

[Collection(ApiServerGroup.Name)]
public sealed class ClusterSetupTests(ApiServer server)
{
    private readonly Cluster _cluster = new(server);

    [Fact]
    public void CommittedCrds_AreExactlyWhatTheTypesGenerate()
    {
        var generated = CrdGenerator.Files().ToDictionary(f => f.FileName, f => f.Yaml);
        var committed = Directory.GetFiles(Repository.PathOf("crds"), "*.yaml").ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        Assert.Equal(generated.Keys.Order(), committed.Keys.Order());
        foreach (var (name, yaml) in generated)
        {
            Assert.True(yaml == committed[name], $"crds/{name} is stale: run ./re6st crds");
        }
    }

    [Fact]
    public async Task KubectlApplyOfTheSamples_Works_AndTheSampleMeshBecomesReady()
    {
        var (code, tools) = await CommandRunner.RunAsync("bash", [Repository.PathOf("tests", "tools", "kube-tools.sh")], TimeSpan.FromMinutes(10));
        Assert.True(code == 0, tools);
        var kubectl = Path.Combine(tools.Trim().Split('\n')[^1].Trim(), "kubectl");
        await using var op = await OperatorRun.StartAsync(server);
        await _cluster.CreateNodesAsync("sample", 5, new Dictionary<string, string> { ["re6st.io/mesh"] = "enabled" });

        var (applied, output) = await CommandRunner.RunAsync(kubectl, ["--kubeconfig", server.AdminKubeconfig, "apply", "-f", Repository.PathOf("config", "samples")], TimeSpan.FromMinutes(1));
        Assert.True(applied == 0, output);
        Assert.Contains("mesh.re6st.io/demo created", output, StringComparison.Ordinal);
        Assert.Contains("randomizationpolicy.re6st.io/default created", output, StringComparison.Ordinal);

        var mesh = await _cluster.PlannedMeshAsync("demo", 5, op.Log);
        Assert.Equal(2, mesh!.Spec.Order);
        var (got, table) = await CommandRunner.RunAsync(kubectl, ["--kubeconfig", server.AdminKubeconfig, "get", "meshes,meshnodes"], TimeSpan.FromMinutes(1));
        Assert.True(got == 0, table);
        // Columns: nodes, routed hosts, arrows, order, Ready. No agent runs here: no host is routed, so not Ready.
        Assert.Matches(@"demo\s+5\s+0\s+0\s+2\s+False", table);
        Assert.Contains("sample-000.demo", table, StringComparison.Ordinal);

        await _cluster.DeleteMeshAsync("demo");
        await Cluster.EventuallyAsync(() => _cluster.MeshAsync("demo"), m => m is null, TimeSpan.FromSeconds(30), "demo deleted", op.Log);
        await server.Admin.CustomObjects.DeleteClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural, "default");
    }

    [Fact]
    public async Task AgentToken_ReadsMeshNodesAndWritesTheirStatus_ButNeverTheirSpec_NorAHostileValue()
    {
        await using var op = await OperatorRun.StartAsync(server);
        var test = Cluster.NewName("rbac");
        await _cluster.CreateNodesAsync(test, 1, new Dictionary<string, string> { ["re6st.io/test"] = test });
        await _cluster.CreateAsync(Cluster.Mesh(test, test), V1Alpha1Mesh.Plural);
        await _cluster.PlannedMeshAsync(test, 1, op.Log);
        var name = V1Alpha1MeshNode.NameFor($"{test}-000", test);

        var mine = await server.Agent.CustomObjects.GetClusterCustomObjectAsync<V1Alpha1MeshNode>(Group.Name, Group.Version, V1Alpha1MeshNode.Plural, name);
        var status = new V1Patch(new { status = new { publicKey = "dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=", routes = 3 } }, V1Patch.PatchType.MergePatch);
        await server.Agent.CustomObjects.PatchClusterCustomObjectStatusAsync(status, Group.Name, Group.Version, V1Alpha1MeshNode.Plural, name);
        var spec = new V1Patch(new { spec = new { ipv6Prefix = "fd5e::/64" } }, V1Patch.PatchType.MergePatch);
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => server.Agent.CustomObjects.PatchClusterCustomObjectAsync(spec, Group.Name, Group.Version, V1Alpha1MeshNode.Plural, name));
        Assert.Equal(HttpStatusCode.Forbidden, e.Response.StatusCode);
        var meshDenied = await Assert.ThrowsAsync<HttpOperationException>(() => server.Agent.CustomObjects.ListClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1Mesh.Plural));
        Assert.Equal(HttpStatusCode.Forbidden, meshDenied.Response.StatusCode);
        var nodesDenied = await Assert.ThrowsAsync<HttpOperationException>(() => server.Operator.CoreV1.ListNamespacedSecretAsync("default"));
        Assert.Equal(HttpStatusCode.Forbidden, nodesDenied.Response.StatusCode);

        // Hostile values in a status are refused by the CRD's schema (PeerPatterns), naming the field,
        // before any peer reads them; the status stays as it was.
        (object Status, string Field)[] hostile =
        [
            (new { publicKey = "dGVzdA==\nallowed-ips ::/0" }, "status.publicKey"),
            (new { openVpnFingerprint = "AB:CD --up /bin/sh" }, "status.openVpnFingerprint"),
            (new { signingKey = "k1\nkey id x" }, "status.signingKey"),
            (new { endpoints = Enumerable.Repeat("fd5e::1", 17).ToArray() }, "status.endpoints"),
            (new { arrows = new[] { new { id = "a1;reboot", peer = "b", subMesh = "root", initiated = true, port = 51820 } } }, "status.arrows[0].id"),
            (new { arrows = new[] { new { id = "a1", peer = "b\ninterface eth0", subMesh = "root", initiated = true, port = 51820 } } }, "status.arrows[0].peer"),
            (new { arrows = new[] { new { id = "a1", peer = "b", subMesh = "root", initiated = true, port = 70000 } } }, "status.arrows[0].port"),
        ];
        foreach (var (bad, field) in hostile)
        {
            var refused = await Assert.ThrowsAsync<HttpOperationException>(() => server.Agent.CustomObjects.PatchClusterCustomObjectStatusAsync(new V1Patch(new { status = bad }, V1Patch.PatchType.MergePatch), Group.Name, Group.Version, V1Alpha1MeshNode.Plural, name));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Response.StatusCode);
            // kube-apiserver 1.20 names a list item's field without its index (status.arrows.id).
            Assert.True(
                refused.Response.Content.Contains(field, StringComparison.Ordinal) || refused.Response.Content.Contains(field.Replace("[0]", "", StringComparison.Ordinal), StringComparison.Ordinal),
                $"{field} not named: {refused.Response.Content}");
        }

        var after = await _cluster.MeshNodesAsync(test);
        Assert.Equal("dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=", after.Single().Status!.PublicKey);
        Assert.Equal(mine.Spec.Ipv6Prefix, after.Single().Spec.Ipv6Prefix);

        await _cluster.DeleteMeshAsync(test);
        await Cluster.EventuallyAsync(() => _cluster.MeshAsync(test), m => m is null, TimeSpan.FromSeconds(30), "deleted", op.Log);
    }

    [Fact]
    public async Task AgentToken_SeesItsOwnMeshNodeByName_AndOnlyItsSubMeshByLabel()
    {
        await using var op = await OperatorRun.StartAsync(server);
        var test = Cluster.NewName("contract");
        await _cluster.CreateNodesAsync(test, 24, new Dictionary<string, string> { ["re6st.io/test"] = test });
        await _cluster.CreateAsync(Cluster.Mesh(test, test, s => { s.Order = 2; s.SubMeshes = [3]; }), V1Alpha1Mesh.Plural);
        await _cluster.PlannedMeshAsync(test, 24, op.Log);
        var all = await _cluster.MeshNodesAsync(test);
        bool Visited(string subMesh) => all.Any(m => m.Spec.Memberships.Any(x => x.Role == "bridge" && x.SubMesh == subMesh));
        var me = all.First(m => m.Spec.Role == "member" && Visited(m.Spec.HomeSubMesh));

        var own = await server.Agent.CustomObjects.ListClusterCustomObjectAsync<ResourceList<V1Alpha1MeshNode>>(
            Group.Name, Group.Version, V1Alpha1MeshNode.Plural, fieldSelector: $"metadata.name={me.Metadata.Name}");
        Assert.Equal(me.Metadata.Name, Assert.Single(own.Items).Metadata.Name);

        var peers = await server.Agent.CustomObjects.ListClusterCustomObjectAsync<ResourceList<V1Alpha1MeshNode>>(
            Group.Name, Group.Version, V1Alpha1MeshNode.Plural, labelSelector: $"{Group.MeshLabel}={test},{Group.SubMeshLabelPrefix}{me.Spec.HomeSubMesh}");
        var expected = all.Where(m => m.Spec.Memberships.Any(x => x.SubMesh == me.Spec.HomeSubMesh)).Select(m => m.Metadata.Name).Order();
        Assert.Equal(expected, peers.Items.Select(m => m.Metadata.Name).Order());
        Assert.True(peers.Items.Count < all.Count, "an agent lists its own sub-mesh, not the whole mesh");
        Assert.Contains(peers.Items, m => m.Spec.Role == "bridge" && m.Spec.HomeSubMesh != me.Spec.HomeSubMesh);

        await _cluster.DeleteMeshAsync(test);
        await Cluster.EventuallyAsync(() => _cluster.MeshAsync(test), m => m is null, TimeSpan.FromSeconds(30), "deleted", op.Log);
    }

    [Fact]
    public async Task DeletedMeshNode_IsWrittenAgain_WithTheSameAllocation()
    {
        await using var op = await OperatorRun.StartAsync(server);
        var test = Cluster.NewName("restore");
        await _cluster.CreateNodesAsync(test, 4, new Dictionary<string, string> { ["re6st.io/test"] = test });
        await _cluster.CreateAsync(Cluster.Mesh(test, test), V1Alpha1Mesh.Plural);
        await _cluster.PlannedMeshAsync(test, 4, op.Log);
        var before = (await _cluster.MeshNodesAsync(test)).Single(m => m.Spec.Node == $"{test}-002");
        await server.Admin.CustomObjects.DeleteClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1MeshNode.Plural, before.Metadata.Name);
        var again = await Cluster.EventuallyAsync(
            async () => (await _cluster.MeshNodesAsync(test)).SingleOrDefault(m => m.Spec.Node == $"{test}-002" && m.Metadata.Uid != before.Metadata.Uid),
            m => m is not null,
            TimeSpan.FromSeconds(30),
            "MeshNode written again",
            op.Log);
        Assert.Equal(before.Spec.Ipv6Prefix, again!.Spec.Ipv6Prefix);
        await _cluster.DeleteMeshAsync(test);
        await Cluster.EventuallyAsync(() => _cluster.MeshAsync(test), m => m is null, TimeSpan.FromSeconds(30), "deleted", op.Log);
    }
}
