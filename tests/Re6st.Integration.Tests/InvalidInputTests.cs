using System.Net;
using System.Text.Json.Nodes;
using k8s.Autorest;
using k8s;
using Re6st.Contracts;
using Re6st.Integration.Tests.Fixtures;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;

namespace Re6st.Integration.Tests;

/// <summary>
/// The corpus of bad input. What the CRD schema can express, the API server refuses (422) naming
/// the field; what it cannot (semantics), the operator reports as Degraded naming the field and
/// the reason, and it keeps serving the other meshes.
/// </summary>
[Collection(ApiServerGroup.Name)]
public sealed class InvalidInputTests(ApiServer server)
{
    private readonly Cluster _cluster = new(server);

    public static TheoryData<string, string, string, string> RejectedByTheApiServer => new()
    {
        // case, plural, spec (JSON), field named in the 422
        { "mesh: ipv6Range not a CIDR", "meshes", """{"ipv6Range":"not-a-cidr"}""", "spec.ipv6Range" },
        { "mesh: ipv6Range missing", "meshes", """{"order":1}""", "spec.ipv6Range" },
        { "mesh: node prefix longer than 128", "meshes", """{"ipv6Range":"fd5e:f1::/48","ipv6NodePrefixLength":129}""", "spec.ipv6NodePrefixLength" },
        { "mesh: IPv4 node prefix longer than 32", "meshes", """{"ipv6Range":"fd5e:f1::/48","ipv4Range":"10.9.0.0/16","ipv4NodePrefixLength":33}""", "spec.ipv4NodePrefixLength" },
        { "mesh: IPv4 range not a dotted quad", "meshes", """{"ipv6Range":"fd5e:f1::/48","ipv4Range":"10.9/16"}""", "spec.ipv4Range" },
        { "mesh: negative bridge share", "meshes", """{"ipv6Range":"fd5e:f1::/48","bridgeShare":-0.1}""", "spec.bridgeShare" },
        { "mesh: bridge share above 1", "meshes", """{"ipv6Range":"fd5e:f1::/48","bridgeShare":1.5}""", "spec.bridgeShare" },
        { "mesh: order 4", "meshes", """{"ipv6Range":"fd5e:f1::/48","order":4}""", "spec.order" },
        { "mesh: three levels of sub-meshes", "meshes", """{"ipv6Range":"fd5e:f1::/48","order":3,"subMeshes":[2,2,2]}""", "spec.subMeshes" },
        { "mesh: unknown technology", "meshes", """{"ipv6Range":"fd5e:f1::/48","technologies":["wireguard","carrier-pigeon"]}""", "spec.technologies" },
        { "mesh: period not a duration", "meshes", """{"ipv6Range":"fd5e:f1::/48","bridgeReelectionPeriod":"an hour"}""", "spec.bridgeReelectionPeriod" },
        { "mesh: selector operator unknown", "meshes", """{"ipv6Range":"fd5e:f1::/48","nodeSelector":{"matchExpressions":[{"key":"a","operator":"Maybe"}]}}""", "spec.nodeSelector.matchExpressions" },
        { "policy: negative destroy share", "randomizationpolicies", """{"destroyShare":-0.1}""", "spec.destroyShare" },
        { "policy: destroy share above 1", "randomizationpolicies", """{"destroyShare":1.5}""", "spec.destroyShare" },
        { "policy: most-used factor above 1", "randomizationpolicies", """{"mostUsedFactor":2}""", "spec.mostUsedFactor" },
        { "policy: refresh period not a duration", "randomizationpolicies", """{"refreshPeriod":"5 minutes"}""", "spec.refreshPeriod" },
        { "policy: max drain neither a duration nor never", "randomizationpolicies", """{"maxDrain":"forever"}""", "spec.maxDrain" },
        { "policy: zero arrows", "randomizationpolicies", """{"arrowsPerNode":0}""", "spec.arrowsPerNode" },
        { "policy: unknown technology in a rule", "randomizationpolicies", """{"technologyRules":[{"technology":"carrier-pigeon","denyWhen":{"matchLabels":{"a":"b"}}}]}""", "spec.technologyRules" },
        { "policy: rule without selector", "randomizationpolicies", """{"technologyRules":[{"technology":"openvpn"}]}""", "spec.technologyRules" },
    };

    public static TheoryData<string, string, string, string> DegradedByTheOperator => new()
    {
        // case, mesh spec (JSON; RANGE is replaced by a fresh /48), field, reason
        { "host bits set", """{"ipv6Range":"fd5e:f2::1/48"}""", "spec.ipv6Range", "host bits set; did you mean fd5e:f2::/48?" },
        { "IPv4 range in ipv6Range", """{"ipv6Range":"10.0.0.0/8"}""", "spec.ipv6Range", "is an IPv4 range" },
        { "IPv4 address with a leading zero", """{"ipv6Range":"RANGE","ipv4Range":"010.0.0.0/8"}""", "spec.ipv4Range", "valid IPv4 address" },
        { "node prefix not longer than the range", """{"ipv6Range":"RANGE","ipv6NodePrefixLength":40}""", "spec.ipv6NodePrefixLength", "is not longer than the range" },
        { "no room for the sub-meshes", """{"ipv6Range":"fd5e:f3:0:10::/60","order":2,"subMeshes":[64]}""", "spec.ipv6NodePrefixLength", "leaves no room" },
        { "order 2 without a layout", """{"ipv6Range":"RANGE","order":2}""", "spec.subMeshes", "needs either subMeshes or expectedNodes" },
        { "sub-mesh levels do not match the order", """{"ipv6Range":"RANGE","order":3,"subMeshes":[4]}""", "spec.subMeshes", "order 3 needs 2 level(s) of sub-meshes, 1 given" },
        { "no bridges at order 2", """{"ipv6Range":"RANGE","order":2,"subMeshes":[4],"bridgeShare":0}""", "spec.bridgeShare", "without bridges the sub-meshes cannot reach each other" },
        { "more nodes expected than the range holds", """{"ipv6Range":"fd5e:f4::/56","expectedNodes":1000}""", "spec.expectedNodes", "1000 nodes do not fit" },
        { "zero hello interval", """{"ipv6Range":"RANGE","babel":{"helloInterval":"0s"}}""", "spec.babel.helloInterval", "must be positive" },
        { "invalid node selector key", """{"ipv6Range":"RANGE","nodeSelector":{"matchLabels":{"bad key!":"x"}}}""", "spec.nodeSelector.matchLabels", "is not a valid label key" },
        { "pods without IPv4 room in a node prefix", """{"ipv6Range":"RANGE","ipv4Range":"10.203.0.0/16","podNetwork":{"enabled":true}}""", "spec.ipv4NodePrefixLength", "a node's IPv4 prefix is a /32, which leaves no room for a pod range" },
        { "pod range wider than a node prefix", """{"ipv6Range":"RANGE","podNetwork":{"enabled":true,"ipv6PrefixLength":60}}""", "spec.podNetwork.ipv6PrefixLength", "/60 must be longer than a node's /64" },
        { "IPv4 pod range without an IPv4 range", """{"ipv6Range":"RANGE","podNetwork":{"enabled":true,"ipv4PrefixLength":25}}""", "spec.podNetwork.ipv4PrefixLength", "the mesh has no ipv4Range" },
        { "policy that does not exist", """{"ipv6Range":"RANGE","policyRef":"no-such-policy"}""", "spec.policyRef", "RandomizationPolicy 'no-such-policy' does not exist" },
    };

    [Theory]
    [MemberData(nameof(RejectedByTheApiServer))]
    public async Task InvalidObject_IsRejectedByTheApiServer_NamingTheField(string @case, string plural, string spec, string field)
    {
        var kind = plural == "meshes" ? "Mesh" : "RandomizationPolicy";
        var body = new JsonObject
        {
            ["apiVersion"] = Group.ApiVersion,
            ["kind"] = kind,
            ["metadata"] = new JsonObject { ["name"] = Cluster.NewName("bad") },
            ["spec"] = JsonNode.Parse(spec),
        };
        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            server.Admin.CustomObjects.CreateClusterCustomObjectAsync(body, Group.Name, Group.Version, plural));
        Assert.True(e.Response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{@case}: {e.Response.StatusCode}");
        Assert.Contains(field, e.Response.Content, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(DegradedByTheOperator))]
    public async Task SemanticallyInvalidMesh_IsDegraded_NamingTheFieldAndTheReason(string @case, string spec, string field, string reason)
    {
        await using var op = await OperatorRun.StartAsync(server);
        var name = Cluster.NewName("degraded");
        var body = new JsonObject
        {
            ["apiVersion"] = Group.ApiVersion,
            ["kind"] = "Mesh",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = JsonNode.Parse(spec.Replace("RANGE", Cluster.NewRange(), StringComparison.Ordinal)),
        };
        await server.Admin.CustomObjects.CreateClusterCustomObjectAsync(body, Group.Name, Group.Version, V1Alpha1Mesh.Plural);
        var mesh = await Cluster.EventuallyAsync(
            () => _cluster.MeshAsync(name),
            m => Conditions.IsTrue(m?.Status?.Conditions, Conditions.Degraded),
            TimeSpan.FromSeconds(30),
            $"{@case}: Degraded",
            op.Log);
        var degraded = mesh!.Status!.Conditions!.Single(c => c.Type == Conditions.Degraded);
        Assert.Contains($"{field}: ", degraded.Message, StringComparison.Ordinal);
        Assert.Contains(reason, degraded.Message, StringComparison.Ordinal);
        Assert.False(Conditions.IsTrue(mesh.Status.Conditions, Conditions.Ready));
        Assert.Empty(await _cluster.MeshNodesAsync(name));

        // Still serving: a good mesh created now becomes Ready.
        var good = Cluster.NewName("good");
        await _cluster.CreateNodesAsync(good, 2, new Dictionary<string, string> { ["re6st.io/test"] = good });
        await _cluster.CreateAsync(Cluster.Mesh(good, good), V1Alpha1Mesh.Plural);
        await _cluster.ReadyMeshAsync(good, 2, op.Log);
        Assert.True(op.Host.IsLeading || !op.Completion.IsCompleted, "the operator stopped");

        foreach (var m in new[] { name, good })
        {
            await _cluster.DeleteMeshAsync(m);
            await Cluster.EventuallyAsync(() => _cluster.MeshAsync(m), x => x is null, TimeSpan.FromSeconds(30), $"{m} deleted", op.Log);
        }
    }

    [Fact]
    public async Task OverlappingMeshes_TheNewerIsDegraded_TheOlderKeepsWorking()
    {
        await using var op = await OperatorRun.StartAsync(server);
        var range = Cluster.NewRange();
        var older = Cluster.NewName("older");
        var newer = Cluster.NewName("newer");
        await _cluster.CreateNodesAsync(older, 2, new Dictionary<string, string> { ["re6st.io/test"] = older });
        await _cluster.CreateAsync(Cluster.Mesh(older, older, s => s.Ipv6Range = range), V1Alpha1Mesh.Plural);
        await _cluster.ReadyMeshAsync(older, 2, op.Log);

        // Creation times have one-second resolution: the newer mesh must be created in a later second.
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        await _cluster.CreateAsync(Cluster.Mesh(newer, older, s => s.Ipv6Range = range.Replace("::/48", ":0:8000::/56", StringComparison.Ordinal)), V1Alpha1Mesh.Plural);
        var mesh = await Cluster.EventuallyAsync(() => _cluster.MeshAsync(newer), m => Conditions.IsTrue(m?.Status?.Conditions, Conditions.Degraded), TimeSpan.FromSeconds(30), "newer Degraded", op.Log);
        Assert.Contains($"spec.ipv6Range: {range.Replace("::/48", ":0:8000::/56", StringComparison.Ordinal)} overlaps {range} of mesh '{older}'", mesh!.Status!.Conditions!.Single(c => c.Type == Conditions.Degraded).Message, StringComparison.Ordinal);
        Assert.True(Conditions.IsTrue((await _cluster.MeshAsync(older))!.Status!.Conditions, Conditions.Ready));
        foreach (var m in new[] { newer, older })
        {
            await _cluster.DeleteMeshAsync(m);
            await Cluster.EventuallyAsync(() => _cluster.MeshAsync(m), x => x is null, TimeSpan.FromSeconds(30), $"{m} deleted", op.Log);
        }
    }

    [Fact]
    public async Task Policy_InvalidOrBreakingAPrinciple_SaysSoInItsStatus_AndItsMeshesAreDegraded()
    {
        await using var op = await OperatorRun.StartAsync(server);
        var bad = Cluster.NewName("policy");
        await _cluster.CreateAsync(new V1Alpha1RandomizationPolicy
        {
            Metadata = new() { Name = bad },
            Spec = new PolicySpecResource { BootstrapPeers = ["a", "a"], DestroyShare = 0, MaxDrain = "never" },
        }, V1Alpha1RandomizationPolicy.Plural);
        var policy = await Cluster.EventuallyAsync(() => _cluster.PolicyAsync(bad), p => p.Status?.ObservedGeneration == 1, TimeSpan.FromSeconds(30), "policy status", op.Log);
        Assert.False(Conditions.IsTrue(policy.Status!.Conditions, Conditions.Ready));
        Assert.Contains("spec.bootstrapPeers: names a node more than once", policy.Status.Conditions!.Single(c => c.Type == Conditions.Degraded).Message, StringComparison.Ordinal);
        Assert.Equal(2, policy.Status.WarningCount);
        Assert.Contains(policy.Status.Warnings!, w => w.StartsWith("spec.destroyShare: breaks \"life requires destruction\"", StringComparison.Ordinal));
        Assert.Contains(policy.Status.Warnings!, w => w.StartsWith("spec.maxDrain: breaks \"life requires destruction\"", StringComparison.Ordinal));

        var mesh = Cluster.NewName("uses-bad-policy");
        await _cluster.CreateAsync(Cluster.Mesh(mesh, mesh, s => s.PolicyRef = bad), V1Alpha1Mesh.Plural);
        var degraded = await Cluster.EventuallyAsync(() => _cluster.MeshAsync(mesh), m => Conditions.IsTrue(m?.Status?.Conditions, Conditions.Degraded), TimeSpan.FromSeconds(30), "mesh Degraded", op.Log);
        Assert.Contains($"RandomizationPolicy {bad}: spec.bootstrapPeers: names a node more than once", degraded!.Status!.Conditions!.Single(c => c.Type == Conditions.Degraded).Message, StringComparison.Ordinal);
        await _cluster.DeleteMeshAsync(mesh);
        await Cluster.EventuallyAsync(() => _cluster.MeshAsync(mesh), x => x is null, TimeSpan.FromSeconds(30), "deleted", op.Log);
        await server.Admin.CustomObjects.DeleteClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural, bad);
    }
}
