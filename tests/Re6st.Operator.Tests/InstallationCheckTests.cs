using System.Text.Json.Nodes;
using System.Xml.Linq;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Operator.Health;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Tests;

/// <summary>
/// What <c>re6st check</c> and <c>re6st status</c> say of installations built here: a healthy one
/// passes every item, and each fault fails (or warns about) the item it concerns, naming the host.
/// The same commands against a real API server are tested in the integration tier.
/// </summary>
public sealed class InstallationCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void AHealthyInstallation_PassesEveryItem()
    {
        var items = InstallationCheck.Run(Healthy(), "re6st-system");

        Assert.All(items, i => Assert.True(i.Outcome == Outcome.Pass, i.ToString()));
        Assert.Equal(
            ["crds", "operator", "mesh m: planned", "mesh m: policy", "mesh m: agents", "mesh m: agent pods", "mesh m: babeld", "mesh m: arrows", "mesh m: partition", "mesh m: routes"],
            items.Select(i => i.Name));
    }

    [Fact]
    public void AnAgentThatStoppedWriting_FailsTheAgentsItem_NamingItsHost_AndItsAge()
    {
        var view = Healthy(edit: n =>
        {
            if (n.Spec.Node == "b")
            {
                n.Status!.Heartbeat = StatusHeartbeat.Format(Now - TimeSpan.FromSeconds(95));
            }
        });

        var agents = Item(view, "mesh m: agents");

        Assert.Equal(Outcome.Fail, agents.Outcome);
        Assert.Equal(["b"], agents.Hosts);
        Assert.Contains("b (last 95 s ago)", agents.Reason, StringComparison.Ordinal);

        // Its stale status is not held against the other items (babeld, routes).
        Assert.Equal(Outcome.Pass, Item(view, "mesh m: babeld").Outcome);
    }

    [Fact]
    public void AHostWithoutArrows_FailsTheArrowsAndPartitionItems_NamingIt()
    {
        var view = Healthy(arrows: [("a", "b"), ("b", "c"), ("c", "a")], hosts: ["a", "b", "c", "d"]);

        var arrows = Item(view, "mesh m: arrows");
        var partition = Item(view, "mesh m: partition");

        Assert.Equal(Outcome.Fail, arrows.Outcome);
        Assert.Equal(["d"], arrows.Hosts);
        Assert.Equal(Outcome.Fail, partition.Outcome);
        Assert.Equal(["d"], partition.Hosts);
        Assert.Contains("a, b, c | d", partition.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AClockFarFromTheApiServers_WarnsNamingTheHostAndHowFar_AndCloseClocksPass()
    {
        var view = Healthy(edit: n => n.Status!.ClockOffsetSeconds = n.Spec.Node == "b" ? -7 : 1);

        var clocks = Item(view, "mesh m: clocks");

        Assert.Equal(Outcome.Warn, clocks.Outcome);
        Assert.Equal(["b"], clocks.Hosts);
        Assert.Contains("b (ahead by 7 s)", clocks.Reason, StringComparison.Ordinal);
        Assert.Equal(Outcome.Pass, Item(Healthy(edit: n => n.Status!.ClockOffsetSeconds = 2), "mesh m: clocks").Outcome);
    }

    [Fact]
    public void AFreshKeyThatEveryHostSignsWith_PassesTheKeyItems_WithItsAgeAndNextRotation()
    {
        var made = Now - TimeSpan.FromDays(3);
        var view = WithKey(Healthy(edit: n => n.Status!.SigningKey = KeyId(made)), new KeyView("re6st-system/re6st-babel-m", true, KeyId(made), [KeyId(made - TimeSpan.FromDays(30)), KeyId(made)]));

        var key = Item(view, "mesh m: key");
        var hosts = Item(view, "mesh m: host keys");

        Assert.Equal(Outcome.Pass, key.Outcome);
        Assert.Equal($"{KeyId(made)} signs, made 3 d ago; rotated every 30 d (next in 27 d); 2 key(s) accepted", key.Reason);
        Assert.Equal(Outcome.Pass, hosts.Outcome);
        Assert.Contains("each of the 3 live host(s) signs with", hosts.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyPastItsRotationPeriod_WarnsThatTheOperatorHasNotRotatedIt()
    {
        var made = Now - TimeSpan.FromDays(31);
        var view = WithKey(Healthy(), new KeyView("re6st-system/re6st-babel-m", true, KeyId(made), [KeyId(made)]));

        var key = Item(view, "mesh m: key");

        Assert.Equal(Outcome.Warn, key.Outcome);
        Assert.Contains("has signed for 31 d, past the rotation period 30 d (spec.babel.keyRotationPeriod)", key.Reason, StringComparison.Ordinal);
        Assert.Contains("operator", key.Look, StringComparison.Ordinal);

        // Within the slack of a resync, a key just due is not held against the operator yet.
        var due = Now - TimeSpan.FromDays(30) - TimeSpan.FromMinutes(5);
        Assert.Equal(Outcome.Pass, Item(WithKey(Healthy(), new KeyView("re6st-system/re6st-babel-m", true, KeyId(due), [KeyId(due)])), "mesh m: key").Outcome);
    }

    [Fact]
    public void AHostOnTheOlderKey_Warns_AndOneOnAKeyTheMeshNoLongerHolds_Fails_NamingThem()
    {
        var old = KeyId(Now - TimeSpan.FromDays(40));
        var current = KeyId(Now - TimeSpan.FromDays(10));
        var secret = new KeyView("re6st-system/re6st-babel-m", true, current, [old, current]);

        var behind = Item(WithKey(Healthy(edit: n => n.Status!.SigningKey = n.Spec.Node == "b" ? old : current), secret), "mesh m: host keys");
        var lost = Item(WithKey(Healthy(edit: n => n.Status!.SigningKey = n.Spec.Node == "c" ? "k1" : current), secret), "mesh m: host keys");

        Assert.Equal(Outcome.Warn, behind.Outcome);
        Assert.Equal(["b"], behind.Hosts);
        Assert.Contains($"b ({old})", behind.Reason, StringComparison.Ordinal);
        Assert.Contains("no adjacency", behind.Reason, StringComparison.Ordinal);
        Assert.Equal(Outcome.Fail, lost.Outcome);
        Assert.Equal(["c"], lost.Hosts);
        Assert.Contains("c (k1)", lost.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingKeySecret_Fails_AndOneTheReaderMayNotRead_Warns()
    {
        var missing = Item(WithKey(Healthy(), new KeyView("re6st-system/re6st-babel-m", false, null, [])), "mesh m: key");
        var forbidden = Item(WithKey(Healthy(), new KeyView("re6st-system/re6st-babel-m", false, null, [], "403 Forbidden")), "mesh m: key");
        var unsigned = Item(WithKey(Healthy(), new KeyView("re6st-system/re6st-babel-m", true, "k9", ["k8"])), "mesh m: key");

        Assert.Equal(Outcome.Fail, missing.Outcome);
        Assert.Contains("re6st-system/re6st-babel-m does not exist", missing.Reason, StringComparison.Ordinal);
        Assert.Equal(Outcome.Warn, forbidden.Outcome);
        Assert.Contains("403 Forbidden", forbidden.Reason, StringComparison.Ordinal);
        Assert.Contains("kubectl auth can-i get secrets -n re6st-system", forbidden.Look, StringComparison.Ordinal);
        Assert.Equal(Outcome.Fail, unsigned.Outcome);
        Assert.Contains("names no signing key it holds", unsigned.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoGroupsOfHostsWithArrowsOnlyAmongThemselves_FailThePartitionItem()
    {
        var view = Healthy(arrows: [("a", "b"), ("c", "d")], hosts: ["a", "b", "c", "d"]);

        Assert.Equal(Outcome.Pass, Item(view, "mesh m: arrows").Outcome);
        var partition = Item(view, "mesh m: partition");
        Assert.Equal(Outcome.Fail, partition.Outcome);
        Assert.Contains("2 parts: a, b | c, d", partition.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void BabeldSilent_AndTooFewRoutes_AreNamedPerHost()
    {
        var view = Healthy(edit: n =>
        {
            n.Status!.Routes = n.Spec.Node switch { "a" => null, "b" => 1, _ => n.Status.Routes };
        });

        var babeld = Item(view, "mesh m: babeld");
        Assert.Equal(Outcome.Fail, babeld.Outcome);
        Assert.Equal(["a"], babeld.Hosts);
        var routes = Item(view, "mesh m: routes");
        Assert.Equal(Outcome.Warn, routes.Outcome);
        Assert.Equal(["b"], routes.Hosts);
        Assert.Contains("b (1 < 2)", routes.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingCrds_AStaleLease_AMissingPolicy_AndAnUnplannedMesh_Fail()
    {
        var view = Healthy() with
        {
            Crds = [new CrdView("meshes.re6st.io", true, null), new CrdView("meshnodes.re6st.io", false, null)],
            Lease = new LeaseView("re6st-system", "re6st-operator", "op-1", Now - TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(15)),
        };
        var mesh = view.Meshes[0];
        mesh.Mesh.Status!.Conditions = [new Condition { Type = "Planned", Status = "False", Reason = "InvalidSpec", Message = "spec.order: out of range" }];
        mesh.Mesh.Spec.PolicyRef = "absent";
        view = view with { Meshes = [mesh with { Policy = null, PolicyName = "absent" }] };

        Assert.Equal(Outcome.Fail, Item(view, "crds").Outcome);
        Assert.Contains("meshnodes.re6st.io", Item(view, "crds").Reason, StringComparison.Ordinal);
        Assert.Contains("last renewed by op-1 40 s ago", Item(view, "operator").Reason, StringComparison.Ordinal);
        Assert.Equal(Outcome.Fail, Item(view, "operator").Outcome);
        Assert.Equal("InvalidSpec: spec.order: out of range", Item(view, "mesh m: planned").Reason);
        Assert.Equal("RandomizationPolicy 'absent' does not exist", Item(view, "mesh m: policy").Reason);
    }

    [Fact]
    public void AMeshThatNamesNoPolicy_WithoutADefaultOne_RunsOnTheBuiltInDefaults()
    {
        var view = Healthy();
        view = view with { Meshes = [view.Meshes[0] with { Policy = null }] };

        var policy = Item(view, "mesh m: policy");

        Assert.Equal(Outcome.Pass, policy.Outcome);
        Assert.StartsWith("the built-in defaults: valid", policy.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ACrdOfAnotherRe6st_IsAWarning_WithWhereItDiffers()
    {
        var view = Healthy() with { Crds = [new CrdView("meshes.re6st.io", true, "schema.properties.spec.properties.order: missing")] };

        var crds = Item(view, "crds");

        Assert.Equal(Outcome.Warn, crds.Outcome);
        Assert.Contains("meshes.re6st.io (schema.properties.spec.properties.order: missing)", crds.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AHostWithoutAReadyAgentPod_FailsTheAgentPodsItem()
    {
        var view = Healthy() with { AgentPods = [new PodView("re6st-system", "agent-a", "a", true), new PodView("re6st-system", "agent-b", "b", false)] };

        var pods = Item(view, "mesh m: agent pods");

        Assert.Equal(Outcome.Fail, pods.Outcome);
        Assert.Equal(["b", "c"], pods.Hosts);
    }

    [Fact]
    public void TheReport_CountsArrowsByStateAndTechnology_AndRoutesAgainstKNToTheOneOverK()
    {
        var view = Healthy(edit: n =>
        {
            if (n.Spec.Node == "a")
            {
                n.Status!.Arrows![0].State = "draining";
            }
        });

        var report = MeshReport.Build(view.Meshes[0], Now);

        Assert.Equal((3, 1), (report.Arrows, report.Draining));
        Assert.Equal(3, report.ByTechnology["wireguard"]);
        Assert.Empty(report.WithoutArrows);
        Assert.Equal((1, 1, 1), (report.Hosts[0].Out, report.Hosts[0].In, report.Hosts[0].Draining));
        Assert.Equal(3.0, MeshReport.ExpectedRoutes(1, 3), 6);
        Assert.Equal(20.0, MeshReport.ExpectedRoutes(2, 100), 6);
        Assert.Equal(3 * Math.Pow(1000, 1.0 / 3), MeshReport.ExpectedRoutes(3, 1000), 6);
    }

    [Fact]
    public void JsonDifference_ComparesNumbersByValue_AndNamesTheFirstPathThatDiffers()
    {
        Assert.Null(JsonDifference.First(JsonNode.Parse("""{"a":[1,{"b":"x"}],"n":1}"""), JsonNode.Parse("""{"n":1.0,"a":[1,{"b":"x"}]}"""), "schema"));
        Assert.Equal("schema.a[1].b: \"y\" where \"x\" is expected", JsonDifference.First(JsonNode.Parse("""{"a":[1,{"b":"x"}]}"""), JsonNode.Parse("""{"a":[1,{"b":"y"}]}"""), "schema"));
        Assert.Equal("schema.c: missing", JsonDifference.First(JsonNode.Parse("""{"c":true}"""), JsonNode.Parse("{}"), "schema"));
    }

    [Fact]
    public void TheGraph_IsValidSvg_WithAHostPerMeshNode_AndALinePerArrow_DrainingDashed_AndTheSameInDot()
    {
        var view = Healthy(edit: n =>
        {
            if (n.Spec.Node == "b")
            {
                n.Spec.Role = "bridge";
                n.Status!.Arrows!.Single(a => a.Initiated).State = "draining";
                n.Status.Arrows!.Single(a => a.Initiated).Technology = "openvpn";
            }
        });

        var svg = XDocument.Parse(MeshGraph.Svg(view.Meshes[0]));
        XNamespace ns = "http://www.w3.org/2000/svg";
        var hosts = svg.Descendants(ns + "g").Where(g => (string?)g.Attribute("class") == "host").ToList();
        var lines = svg.Descendants(ns + "line").Where(l => (string?)l.Attribute("class") == "arrow").ToList();

        Assert.Equal(["a", "b", "c"], hosts.Select(h => (string)h.Attribute("data-name")!));
        Assert.Equal("bridge", (string)hosts[1].Attribute("data-role")!);
        Assert.Equal(2, hosts[1].Elements(ns + "circle").Count());
        Assert.Equal(["a-b", "b-c", "c-a"], lines.Select(l => $"{l.Attribute("data-from")!.Value}-{l.Attribute("data-to")!.Value}"));
        var drained = lines.Single(l => l.Attribute("data-state")!.Value == "draining");
        Assert.Equal(("b", "openvpn"), (drained.Attribute("data-from")!.Value, drained.Attribute("data-technology")!.Value));
        Assert.NotNull(drained.Attribute("stroke-dasharray"));
        var dot = MeshGraph.Dot(view.Meshes[0]);
        Assert.Equal(3, dot.Split('\n').Count(l => l.Contains(" -- ", StringComparison.Ordinal)));
        Assert.Contains("\"b\" -- \"c\" [color=\"#D55E00\", style=dashed", dot, StringComparison.Ordinal);
    }

    // A 3-host mesh (a, b, c), each opening one WireGuard arrow to the next, everything fresh.
    private static ClusterView Healthy(IReadOnlyList<(string From, string To)>? arrows = null, IReadOnlyList<string>? hosts = null, Action<V1Alpha1MeshNode>? edit = null)
    {
        hosts ??= ["a", "b", "c"];
        arrows ??= [("a", "b"), ("b", "c"), ("c", "a")];
        var nodes = hosts.Select(h => new V1Alpha1MeshNode
        {
            Metadata = new V1ObjectMeta { Name = $"{h}.m" },
            Spec = new MeshNodeSpec { Mesh = "m", Node = h, HomeSubMesh = "root", Memberships = [new MembershipResource { SubMesh = "root" }] },
            Status = new MeshNodeStatus
            {
                Heartbeat = StatusHeartbeat.Format(Now - TimeSpan.FromSeconds(5)),
                Routes = hosts.Count - 1,
                Arrows =
                [
                    .. arrows.Where(x => x.From == h).Select(x => new ArrowStatusResource { Id = $"{x.From}{x.To}", Peer = x.To, SubMesh = "root", Initiated = true, State = "active", Technology = "wireguard", Port = 51820 }),
                    .. arrows.Where(x => x.To == h).Select(x => new ArrowStatusResource { Peer = x.From, SubMesh = "root", Initiated = false, Routes = 1 }),
                ],
            },
        }).ToList();
        foreach (var node in nodes)
        {
            edit?.Invoke(node);
        }

        var mesh = new V1Alpha1Mesh
        {
            Metadata = new V1ObjectMeta { Name = "m" },
            Status = new MeshStatus { Conditions = [new Condition { Type = "Planned", Status = "True", Reason = "Planned" }, new Condition { Type = "Ready", Status = "True", Reason = "Routed" }] },
        };
        var policy = new V1Alpha1RandomizationPolicy { Metadata = new V1ObjectMeta { Name = "default" }, Spec = new PolicySpecResource() };
        return new ClusterView(
            Now,
            [new CrdView("meshes.re6st.io", true, null), new CrdView("meshnodes.re6st.io", true, null), new CrdView("randomizationpolicies.re6st.io", true, null)],
            new LeaseView("re6st-system", "re6st-operator", "op-1", Now - TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15)),
            [new PodView("re6st-system", "op-1", "a", true)],
            [.. hosts.Select(h => new PodView("re6st-system", $"agent-{h}", h, true))],
            [new MeshView(mesh, "default", policy, nodes)]);
    }

    /// <summary>A key id as the operator makes it ("k" and its creation time in Unix seconds).</summary>
    private static string KeyId(DateTimeOffset made) => $"k{made.ToUnixTimeSeconds()}";

    private static ClusterView WithKey(ClusterView view, KeyView key) => view with { Meshes = [view.Meshes[0] with { Key = key }] };

    private static CheckItem Item(ClusterView view, string name) => InstallationCheck.Run(view, "re6st-system").Single(i => i.Name == name);
}
