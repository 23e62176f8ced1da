using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using Re6st.Contracts;
using Re6st.Integration.Tests.Fixtures;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;
using Re6st.Testing;

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

    public static TheoryData<string, string, string, string> RejectedByTheApiServer => BadInputCorpus.Theory(BadInputCorpus.RejectedByTheApiServer);

    public static TheoryData<string, string, string, string> DegradedByTheOperator => BadInputCorpus.Theory(BadInputCorpus.DegradedByTheOperator);

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
        Assert.False(Conditions.IsTrue(mesh.Status.Conditions, Conditions.Planned));
        Assert.Empty(await _cluster.MeshNodesAsync(name));

        // Still serving: a good mesh created now becomes Ready.
        var good = Cluster.NewName("good");
        await _cluster.CreateNodesAsync(good, 2, new Dictionary<string, string> { ["re6st.io/test"] = good });
        await _cluster.CreateAsync(Cluster.Mesh(good, good), V1Alpha1Mesh.Plural);
        await _cluster.PlannedMeshAsync(good, 2, op.Log);
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
        await _cluster.PlannedMeshAsync(older, 2, op.Log);

        // Creation times have one-second resolution: the newer mesh must be created in a later second.
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        await _cluster.CreateAsync(Cluster.Mesh(newer, older, s => s.Ipv6Range = range.Replace("::/48", ":0:8000::/56", StringComparison.Ordinal)), V1Alpha1Mesh.Plural);
        var mesh = await Cluster.EventuallyAsync(() => _cluster.MeshAsync(newer), m => Conditions.IsTrue(m?.Status?.Conditions, Conditions.Degraded), TimeSpan.FromSeconds(30), "newer Degraded", op.Log);
        Assert.Contains($"spec.ipv6Range: {range.Replace("::/48", ":0:8000::/56", StringComparison.Ordinal)} overlaps {range} of mesh '{older}'", mesh!.Status!.Conditions!.Single(c => c.Type == Conditions.Degraded).Message, StringComparison.Ordinal);
        Assert.True(Conditions.IsTrue((await _cluster.MeshAsync(older))!.Status!.Conditions, Conditions.Planned));
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
