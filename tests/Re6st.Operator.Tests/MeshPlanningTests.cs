using k8s.Models;
using Re6st.Contracts;
using Re6st.Core.Randomness;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Tests;

/// <summary>
/// <see cref="MeshPlanning.Compute"/>, the operator's pure heart, on snapshots built here: what it
/// refuses and with which field, which nodes it plans, what it deletes, the status and the events.
/// The reconciler that applies the outcome to a real API server is tested in the integration tier.
/// </summary>
public sealed class MeshPlanningTests
{
    private static readonly DateTime Now = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public static TheoryData<string, Action<MeshSpecResource>, string, string> InvalidSpecs => new()
    {
        { "range", s => s.Ipv6Range = "fd00::/129", "InvalidSpec", "spec.ipv6Range" },
        { "order", s => s.Order = 0, "InvalidSpec", "spec.order" },
        { "reelection", s => s.BridgeReelectionPeriod = "an hour", "InvalidSpec", "spec.bridgeReelectionPeriod" },
        { "reelection <= 0", s => s.BridgeReelectionPeriod = "0s", "InvalidSpec", "spec.bridgeReelectionPeriod: must be positive (got 0s)" },
        { "hello", s => s.Babel = new BabelSpec { HelloInterval = "-4s" }, "InvalidSpec", "spec.babel.helloInterval" },
        { "key rotation", s => s.Babel = new BabelSpec { KeyRotationPeriod = "monthly" }, "InvalidSpec", "spec.babel.keyRotationPeriod" },
        { "selector", s => s.NodeSelector = new LabelSelectorResource { MatchExpressions = [new() { Key = "zone", Operator = "Near" }] }, "InvalidSpec", "spec.nodeSelector" },
        { "missing policy", s => s.PolicyRef = "absent", "InvalidSpec", "spec.policyRef: RandomizationPolicy 'absent' does not exist" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void AnInvalidSpec_PlansNothing_AndNamesTheField(string what, Action<MeshSpecResource> edit, string reason, string field)
    {
        var mesh = Mesh();
        edit(mesh.Spec);

        var outcome = Compute(Snapshot(mesh, Nodes(3)));

        Assert.False(outcome.Planned, what);
        Assert.Empty(outcome.Desired);
        Assert.Empty(outcome.Delete);
        var planned = Condition(outcome, Conditions.Planned);
        Assert.Equal(("False", reason), (planned.Status, planned.Reason));
        Assert.Contains(field, planned.Message, StringComparison.Ordinal);
        Assert.Equal(("False", reason), (Condition(outcome, Conditions.Ready).Status, Condition(outcome, Conditions.Ready).Reason));
        Assert.Equal("True", Condition(outcome, Conditions.Degraded).Status);
        var warning = Assert.Single(outcome.Events);
        Assert.True(warning.Warning);
        Assert.Contains(field, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInvalidPolicy_IsReportedAsThePolicysFault_WithItsNameAndField()
    {
        var policy = new V1Alpha1RandomizationPolicy { Metadata = new V1ObjectMeta { Name = "strict" }, Spec = new PolicySpecResource { DestroyShare = 1.5 } };
        var mesh = Mesh();
        mesh.Spec.PolicyRef = "strict";

        var outcome = Compute(Snapshot(mesh, Nodes(3)) with { Policy = policy });

        var ready = Condition(outcome, Conditions.Ready);
        Assert.Equal(("False", "InvalidPolicy"), (ready.Status, ready.Reason));
        Assert.StartsWith("RandomizationPolicy strict: ", ready.Message, StringComparison.Ordinal);
        Assert.Contains("destroyShare", ready.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMeshOverlappingAnOlderOne_IsRefused_WhileTheOlderOneIsNot()
    {
        var older = Mesh("first", created: Now.AddDays(-1));
        var newer = Mesh("second", created: Now);
        newer.Spec.Ipv6Range = "fd5e:6e7:0:8000::/49";

        var refused = Compute(Snapshot(newer, Nodes(2)) with { OtherMeshes = [older, newer] });
        var kept = Compute(Snapshot(older, Nodes(2)) with { OtherMeshes = [older, newer] });

        Assert.False(refused.Planned);
        Assert.Contains("spec.ipv6Range: fd5e:6e7:0:8000::/49 overlaps fd5e:6e7::/48 of mesh 'first'", Condition(refused, Conditions.Planned).Message, StringComparison.Ordinal);
        Assert.True(kept.Planned);
    }

    [Fact]
    public void TheSelectedNodes_AreEachGivenAMeshNode_WithDistinctPrefixes_AndTheStatusCountsThem()
    {
        var mesh = Mesh();
        mesh.Spec.NodeSelector = new LabelSelectorResource { MatchLabels = new() { ["re6st.io/mesh"] = "enabled" } };
        var nodes = Nodes(5).Append(Node("outsider")).ToList();

        var outcome = Compute(Snapshot(mesh, nodes));

        Assert.True(outcome.Planned);
        Assert.Equal(["host-0", "host-1", "host-2", "host-3", "host-4"], outcome.Desired.Select(d => d.Spec.Node).Order(StringComparer.Ordinal));
        Assert.Equal(5, outcome.Desired.Select(d => d.Spec.Ipv6Prefix).Distinct(StringComparer.Ordinal).Count());
        Assert.All(outcome.Desired, d => Assert.Equal("demo", d.Spec.Mesh));
        Assert.Equal((5, 1, 0), (outcome.Status.Nodes, outcome.Status.SubMeshCount, outcome.Status.Bridges));
        Assert.Equal(("True", "Planned"), (Condition(outcome, Conditions.Planned).Status, Condition(outcome, Conditions.Planned).Reason));

        // Planned, not routed: no agent has written a status yet, and the hosts are new.
        Assert.Equal(("False", "Converging"), (Condition(outcome, Conditions.Ready).Status, Condition(outcome, Conditions.Ready).Reason));
        Assert.Equal(("True", "Converging"), (Condition(outcome, Conditions.Progressing).Status, Condition(outcome, Conditions.Progressing).Reason));
        Assert.Equal(0, outcome.Status.ReadyHosts);
        Assert.Equal("False", Condition(outcome, Conditions.Degraded).Status);
        Assert.Contains(outcome.Events, e => e is { Warning: false, Reason: "Planned", Message: "5 nodes in 1 sub-mesh(es), 0 bridge role(s)" });
    }

    [Fact]
    public void TheSameSnapshotAndSeed_GiveTheSameOutcome_AndAReplanKeepsEveryPrefix()
    {
        var mesh = Mesh();
        mesh.Spec.Order = 2;
        mesh.Spec.SubMeshes = [4];
        var nodes = Nodes(12);

        var first = Compute(Snapshot(mesh, nodes), seed: 7);
        var again = Compute(Snapshot(mesh, nodes), seed: 7);
        Assert.Equal(12, first.Desired.Count);
        Assert.Equal(Describe(first), Describe(again));

        // The MeshNodes written the first time are read back: a replan with another seed moves no one.
        mesh.Status = first.Status;
        var replanned = Compute(Snapshot(mesh, nodes, first.Desired), seed: 99);
        Assert.Equal(
            first.Desired.Select(d => (d.Spec.Node, d.Spec.HomeSubMesh, d.Spec.Ipv6Prefix)),
            replanned.Desired.Select(d => (d.Spec.Node, d.Spec.HomeSubMesh, d.Spec.Ipv6Prefix)));
        Assert.Empty(replanned.Delete);
        Assert.DoesNotContain(replanned.Events, e => e.Reason == "Planned");
    }

    [Fact]
    public void AnOrderTwoMesh_ElectsBridgesOnce_ThenAgainOnlyAfterTheReelectionPeriod()
    {
        var mesh = Mesh();
        mesh.Spec.Order = 2;
        mesh.Spec.SubMeshes = [4];
        mesh.Spec.BridgeReelectionPeriod = "1h";
        var nodes = Nodes(12);

        var first = Compute(Snapshot(mesh, nodes));
        Assert.True(first.Planned, Condition(first, Conditions.Planned).Message);
        Assert.Equal(Now, first.Status.LastBridgeElection);
        Assert.True(first.Status.SubMeshCount > 1, $"{first.Status.SubMeshCount} sub-meshes");
        Assert.True(first.Status.Bridges > 0, $"{first.Status.Bridges} bridges");
        Assert.Contains(first.Desired, d => d.Spec.Memberships.Any(m => m.Role != "home"));

        mesh.Status = first.Status;
        var soon = Compute(Snapshot(mesh, nodes, first.Desired) with { Now = Now.AddMinutes(59) });
        Assert.Equal(Now, soon.Status.LastBridgeElection);
        Assert.DoesNotContain(soon.Events, e => e.Reason == "BridgesReelected");

        var later = Compute(Snapshot(mesh, nodes, first.Desired) with { Now = Now.AddHours(1) });
        Assert.Equal(Now.AddHours(1), later.Status.LastBridgeElection);
        Assert.Contains(later.Events, e => e.Reason == "BridgesReelected");
    }

    [Fact]
    public void ANodeThatLeft_HasItsMeshNodeDeleted_AndIsNamedInAnEvent()
    {
        var mesh = Mesh();
        var before = Compute(Snapshot(mesh, Nodes(4)));
        mesh.Status = before.Status;

        var after = Compute(Snapshot(mesh, Nodes(4).Where(n => n.Metadata.Name != "host-2").ToList(), before.Desired));

        var gone = before.Desired.Single(d => d.Spec.Node == "host-2").Metadata.Name;
        Assert.Equal([gone], after.Delete);
        Assert.Contains(after.Events, e => e is { Warning: false, Reason: "NodesLeft" } && e.Message.Contains(gone, StringComparison.Ordinal));
        Assert.Equal(3, after.Status.Nodes);
    }

    [Fact]
    public void PodRanges_GoToNodesWithoutPodCidrs_AndAForeignRangeIsAConflictNotAnOverwrite()
    {
        var mesh = Mesh();
        mesh.Spec.PodNetwork = new PodNetworkResource { Enabled = true };
        mesh.Spec.Ipv4NodePrefixLength = 24;
        var nodes = Nodes(3);
        nodes[1].Spec = new V1NodeSpec { PodCIDRs = ["10.244.1.0/24"], PodCIDR = "10.244.1.0/24" };

        var outcome = Compute(Snapshot(mesh, nodes));

        Assert.Equal(["host-0", "host-2"], outcome.PodCidrs.Select(p => p.Node));
        Assert.All(outcome.PodCidrs, p => Assert.NotEmpty(p.Cidrs));
        var conflict = Assert.Single(outcome.Events, e => e.Reason == "PodRangeConflict");
        Assert.True(conflict.Warning);
        Assert.Contains("node host-1 has podCIDRs 10.244.1.0/24 from elsewhere", conflict.Message, StringComparison.Ordinal);
        var degraded = Condition(outcome, Conditions.Degraded);
        Assert.Equal(("True", "PodRangeConflict"), (degraded.Status, degraded.Reason));
        Assert.Equal(3, outcome.Desired.Count(d => d.Spec.PodNetwork is not null));
    }

    [Fact]
    public void ReadyMeansRouted_EveryHostsAgentReportsArrowsAndRoutes_AndAHostThatFellSilentDegradesTheMesh_Named()
    {
        var mesh = Mesh();
        var nodes = Nodes(3);
        var planned = Compute(Snapshot(mesh, nodes)).Desired;

        // Each agent reports a fresh status: an arrow to the next host, a route to each other host;
        // the MeshNodes were made 10 minutes ago.
        List<V1Alpha1MeshNode> Reported(Func<string, (TimeSpan Age, int Routes)> edit) => [.. planned.Select((d, i) =>
        {
            var (age, routes) = edit(d.Spec.Node);
            return new V1Alpha1MeshNode
            {
                Metadata = new V1ObjectMeta { Name = d.Metadata.Name, CreationTimestamp = Now.AddMinutes(-10) },
                Spec = d.Spec,
                Status = new MeshNodeStatus
                {
                    Heartbeat = StatusHeartbeat.Format(Now - age),
                    Routes = routes,
                    Arrows = [new ArrowStatusResource { Id = $"x{i}", Peer = planned[(i + 1) % 3].Spec.Node, Initiated = true, State = "active", Technology = "wireguard", Port = 51820 }],
                },
            };
        })];

        var routed = Compute(Snapshot(mesh, nodes, Reported(_ => (TimeSpan.FromSeconds(10), 2))));
        Assert.Equal(("True", "Routed"), (Condition(routed, Conditions.Ready).Status, Condition(routed, Conditions.Ready).Reason));
        Assert.Equal("False", Condition(routed, Conditions.Progressing).Status);
        Assert.Equal("False", Condition(routed, Conditions.Degraded).Status);
        Assert.Equal((3, 3), (routed.Status.ReadyHosts, routed.Status.Arrows));

        // host-1's agent went silent 2 minutes ago: it is named, and the others, which cannot
        // reach it, are not held to a route to it.
        var silent = Compute(Snapshot(mesh, nodes, Reported(n => n == "host-1" ? (TimeSpan.FromMinutes(2), 2) : (TimeSpan.FromSeconds(10), 1))));
        var ready = Condition(silent, Conditions.Ready);
        Assert.Equal(("False", "HostsNotRouted"), (ready.Status, ready.Reason));
        Assert.Equal("1 of 3 host(s) not routed: host-1: its agent wrote nothing for over 90 s", ready.Message);
        var degraded = Condition(silent, Conditions.Degraded);
        Assert.Equal(("True", "HostsNotRouted"), (degraded.Status, degraded.Reason));
        Assert.Contains("host-1: its agent wrote nothing", degraded.Message, StringComparison.Ordinal);
        Assert.Equal("False", Condition(silent, Conditions.Progressing).Status);
        Assert.Equal(2, silent.Status.ReadyHosts);
        Assert.Equal(("True", "Planned"), (Condition(silent, Conditions.Planned).Status, Condition(silent, Conditions.Planned).Reason));

        // Too few routes is named with the figures.
        var short_ = Compute(Snapshot(mesh, nodes, Reported(n => (TimeSpan.FromSeconds(10), n == "host-2" ? 1 : 2))));
        Assert.Contains("host-2: 1 route(s) for 2 live host(s) homed in its sub-meshes", Condition(short_, Conditions.Ready).Message, StringComparison.Ordinal);
    }

    private static MeshOutcome Compute(MeshSnapshot snapshot, ulong seed = 1) => MeshPlanning.Compute(snapshot, new Xoshiro256StarStar(seed));

    private static V1Alpha1Mesh Mesh(string name = "demo", DateTime? created = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Generation = 1, CreationTimestamp = created ?? Now.AddDays(-1) },
        Spec = new MeshSpecResource { Ipv6Range = "fd5e:6e7::/48", Ipv4Range = "10.42.0.0/16" },
    };

    private static List<V1Node> Nodes(int count) => [.. Enumerable.Range(0, count).Select(i => Node($"host-{i}", ("re6st.io/mesh", "enabled")))];

    private static V1Node Node(string name, params (string Key, string Value)[] labels) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal) },
    };

    private static MeshSnapshot Snapshot(V1Alpha1Mesh mesh, IReadOnlyList<V1Node> nodes, IReadOnlyList<V1Alpha1MeshNode>? meshNodes = null) =>
        new(mesh, null, nodes, meshNodes ?? [], "demo-babel-key", Now);

    private static Condition Condition(MeshOutcome outcome, string type) =>
        Assert.Single(outcome.Status.Conditions ?? [], c => c.Type == type);

    private static string Describe(MeshOutcome outcome) => string.Join('\n', outcome.Desired.Select(d =>
        $"{d.Metadata.Name} {d.Spec.Node} {d.Spec.Role} {d.Spec.HomeSubMesh} {d.Spec.Ipv6Prefix} {d.Spec.Ipv4Prefix} "
        + string.Join(',', d.Spec.Memberships.Select(m => $"{m.SubMesh}:{m.Role}:{m.Ipv6Range}"))))
        + $"\n{outcome.Status.Nodes} {outcome.Status.SubMeshCount} {outcome.Status.Bridges}";
}
