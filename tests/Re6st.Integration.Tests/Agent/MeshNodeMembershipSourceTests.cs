using Re6st.Agent.Lifecycle;
using System.Net;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Re6st.Agent.Babel;
using Re6st.Agent.Membership;
using Re6st.Contracts;
using Re6st.Core.Policy;
using Re6st.Integration.Tests.Fixtures;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;

namespace Re6st.Integration.Tests.Agent;

/// <summary>
/// The agent's cluster membership source against a real API server, with the operator writing the
/// MeshNodes and every source on the agent's own ServiceAccount token: what it reads and writes is
/// what the agent's RBAC allows, and enough.
/// </summary>
[Collection(ApiServerGroup.Name)]
[SupportedOSPlatform("linux")]
public sealed class MeshNodeMembershipSourceTests(ApiServer server)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly Cluster _cluster = new(server);

    [Fact]
    public async Task EachHost_ReadsItsPlan_AndItsPeers_WithTheLabelsThePolicyReads()
    {
        var test = Cluster.NewName("src-plan");
        var labels = new Dictionary<string, string> { ["re6st.io/test"] = test };
        await using var op = await OperatorRun.StartAsync(server);
        var nodes = NodeNames(test, 4);
        try
        {
            await _cluster.CreateAsync(new V1Alpha1RandomizationPolicy
            {
                Metadata = new V1ObjectMeta { Name = test },
                Spec = new PolicySpecResource
                {
                    ArrowsPerNode = 3,
                    Preferred = new PreferredResource { Selector = new LabelSelectorResource { MatchLabels = new() { ["re6st.io/test-dc"] = "well-known" } }, Share = 0.5 },
                    TechnologyRules = [new TechnologyRuleResource { Technology = "openvpn", DenyWhen = new LabelSelectorResource { MatchExpressions = [new() { Key = "re6st.io/test-firewall", Operator = "Exists" }] } }],
                },
            }, V1Alpha1RandomizationPolicy.Plural);
            var special = new Dictionary<string, string>(labels) { ["re6st.io/test-dc"] = "well-known", [NodeLabels.Capacity] = "3", [NodeLabels.Technologies] = "wireguard", ["unrelated"] = "x" };
            await _cluster.CreateNodesAsync(test, 1, special);
            await _cluster.CreateNodesAsync(test, 3, labels, start: 1);
            await _cluster.CreateAsync(Cluster.Mesh(test, test, s => { s.PolicyRef = test; s.Babel = new BabelSpec { HelloInterval = "2s" }; }), V1Alpha1Mesh.Plural);
            await _cluster.PlannedMeshAsync(test, 4, op.Log);
            var meshNodes = (await _cluster.MeshNodesAsync(test)).ToDictionary(m => m.Spec.Node);

            foreach (var node in nodes)
            {
                await using var source = MeshNodeMembershipSource.Start(server.AgentApi, node, test);
                var view = await ViewAsync(source, v => v.Peers.Count == 3, $"{node}: its plan and 3 peers", op.Log);

                Assert.Equal(Json(meshNodes[node].Spec.ToPlan()), Json(view.Plan));
                Assert.Equal(3, view.Policy.ArrowsPerNode);
                Assert.Equal(0.5, view.Policy.Preferred!.Share);
                Assert.Equal(TunnelTechnology.OpenVpn, Assert.Single(view.Policy.TechnologyRules).Technology);
                Assert.Equal(TimeSpan.FromSeconds(2), view.HelloInterval);
                Assert.Equal(nodes.Where(n => n != node), view.Peers.Select(p => p.Node.Name));
                Assert.All(view.Peers, p => Assert.Equal(["root"], p.SubMeshes));
                Assert.All(view.Peers, p => Assert.Null(p.Status));
                foreach (var peer in view.Peers.Select(p => p.Node))
                {
                    var isSpecial = peer.Name == nodes[0];
                    Assert.Equal(isSpecial ? new Dictionary<string, string> { ["re6st.io/test-dc"] = "well-known" } : [], peer.Labels);
                    Assert.Equal(isSpecial ? 3 : 1, peer.Capacity);
                    Assert.Equal(isSpecial ? TunnelTechnology.WireGuard : TunnelTechnology.All, peer.Technologies);
                }
            }
        }
        finally
        {
            await CleanUpAsync(test, nodes, op.Log, policy: test);
        }
    }

    [Fact]
    public async Task NoView_UntilTheHostHasAMeshNode()
    {
        var test = Cluster.NewName("src-none");
        await using var source = MeshNodeMembershipSource.Start(server.AgentApi, test + "-000", test);
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Null(await source.ReadAsync(CancellationToken.None));
        Assert.Null(await source.ReadKeysAsync(CancellationToken.None));
        await source.PublishAsync(Status(test + "-000", []), CancellationToken.None);
        Assert.Equal(0, source.Writes);
    }

    [Fact]
    public async Task Publish_IsSeenByAPeer_AndAnUnchangedPublishWritesNothing()
    {
        await WithMeshAsync("src-pub", 3, async (test, nodes, op) =>
        {
            var (a, b, c) = (nodes[0], nodes[1], nodes[2]);

            // A status field the agent does not own (conditions, set elsewhere) must survive its publishes.
            var condition = new { type = "Ready", status = "True", reason = "SetElsewhere", lastTransitionTime = "2026-01-01T00:00:00Z" };
            await server.Admin.CustomObjects.PatchClusterCustomObjectStatusAsync(
                new V1Patch(new { status = new { conditions = new[] { condition } } }, V1Patch.PatchType.MergePatch), Group.Name, Group.Version, V1Alpha1MeshNode.Plural, V1Alpha1MeshNode.NameFor(a, test));

            // The reader renews its watch every second: what it sees later comes through renewed watches.
            await using var sourceA = MeshNodeMembershipSource.Start(server.AgentApi, a, test);
            await using var sourceB = MeshNodeMembershipSource.Start(server.AgentApi, b, test, watchSeconds: 1);
            await ViewAsync(sourceA, v => v.Peers.Count == 2, $"{a}: its view", op.Log);
            await ViewAsync(sourceB, v => v.Peers.Count == 2, $"{b}: its view", op.Log);
            await Task.Delay(TimeSpan.FromSeconds(3));

            var published = Status(a, [new PublishedArrow("a1", b, "root", TunnelTechnology.WireGuard, 51820), new PublishedArrow("a2", c, "root", TunnelTechnology.WireGuard, 51821, Draining: true)], new AcceptedArrow(c, "root", 4));
            await sourceA.PublishAsync(published, CancellationToken.None);
            await ViewAsync(sourceB, v => Json(v.Peers.Single(p => p.Node.Name == a).Status) == Json(published), $"{b} sees what {a} published", op.Log);
            Assert.Equal(1, sourceA.Writes);

            var written = await MeshNodeAsync(a, test);
            Assert.Equal(7, written.Status!.Routes);
            Assert.Equal("SetElsewhere", Assert.Single(written.Status.Conditions!).Reason);
            Assert.Equal(["fd5e:ff::a"], written.Status.Endpoints);
            Assert.Equal(3, written.Status.ArrowCount);
            var toB = written.Status.Arrows!.Single(x => x.Peer == b);
            Assert.True(toB is { Id: "a1", Initiated: true, Port: 51820, Technology: "wireguard", State: "active", SubMesh: "root" });
            var fromC = written.Status.Arrows!.Single(x => x.Peer == c && !x.Initiated);
            Assert.Equal(4, fromC.Routes);

            // Ticks that change nothing write nothing: again from the same source, and from a restarted one.
            await sourceA.PublishAsync(Status(a, [.. published.Arrows], [.. published.Accepted]), CancellationToken.None);
            await sourceA.PublishAsync(published, CancellationToken.None);
            await using (var restarted = MeshNodeMembershipSource.Start(server.AgentApi, a, test))
            {
                await ViewAsync(restarted, v => v.Peers.Count == 2, $"{a} after a restart: its view", op.Log);
                await restarted.PublishAsync(published, CancellationToken.None);
                Assert.Equal(0, restarted.Writes);
            }

            Assert.Equal(1, sourceA.Writes);
            Assert.Equal(written.Metadata.ResourceVersion, (await MeshNodeAsync(a, test)).Metadata.ResourceVersion);

            // Level-triggered: a status someone else changed is written again at the next tick once the watch shows it.
            await server.Admin.CustomObjects.PatchClusterCustomObjectStatusAsync(
                new V1Patch(new { status = new { publicKey = "b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcm90aGVyb3Q=" } }, V1Patch.PatchType.MergePatch), Group.Name, Group.Version, V1Alpha1MeshNode.Plural, V1Alpha1MeshNode.NameFor(a, test));
            await Cluster.EventuallyAsync(
                async () =>
                {
                    await sourceA.PublishAsync(published, CancellationToken.None);
                    return sourceA.Writes;
                },
                writes => writes == 2,
                Bound,
                $"{a}'s status written again",
                op.Log);
            Assert.Equal(published.WireGuardKey, (await MeshNodeAsync(a, test)).Status!.PublicKey);

            var changed = Status(a, [.. published.Arrows], new AcceptedArrow(c, "root", 5));
            await sourceA.PublishAsync(changed, CancellationToken.None);
            Assert.Equal(3, sourceA.Writes);
            await ViewAsync(sourceB, v => v.Peers.Single(p => p.Node.Name == a).Status?.Accepted.Single().Routes == 5, $"{b} sees {a}'s new route count", op.Log);
            Assert.NotEqual(written.Metadata.ResourceVersion, (await MeshNodeAsync(a, test)).Metadata.ResourceVersion);

            // A field the agent stops saying goes from the status: a hand-over's deadline and a
            // stand-in list left behind would make peers stand in, and hold their arrows, for nothing.
            var handingOver = changed with { HandOverUntil = DateTimeOffset.UtcNow.AddMinutes(2), StandingIn = [b] };
            await sourceA.PublishAsync(handingOver, CancellationToken.None);
            await ViewAsync(sourceB, v => v.Peers.Single(p => p.Node.Name == a).Status is { HandOverUntil: not null, StandingIn.Count: 1 }, $"{b} sees {a} hand over", op.Log);
            await Cluster.EventuallyAsync(
                async () =>
                {
                    await sourceA.PublishAsync(changed, CancellationToken.None);
                    return (await MeshNodeAsync(a, test)).Status!;
                },
                s => s.HandOverUntil is null && s.StandingIn is null,
                Bound,
                $"{a}'s hand-over and stand-ins gone from its status",
                op.Log);
            await ViewAsync(sourceB, v => v.Peers.Single(p => p.Node.Name == a).Status is { HandOverUntil: null, StandingIn.Count: 0 }, $"{b} sees {a} back", op.Log);
            Assert.Equal("SetElsewhere", Assert.Single((await MeshNodeAsync(a, test)).Status!.Conditions!).Reason);
        });
    }

    [Fact]
    public async Task AnUnchangedStatus_IsWrittenAgainOncePerHeartbeat_WithTheHeartbeatMoved()
    {
        await WithMeshAsync("src-beat", 2, async (test, nodes, op) =>
        {
            var (a, b) = (nodes[0], nodes[1]);

            // A 2-second heartbeat rather than StatusHeartbeat.Interval's 30 s, to keep the test short.
            await using var source = MeshNodeMembershipSource.Start(server.AgentApi, a, test, watchSeconds: 1, heartbeat: TimeSpan.FromSeconds(2));
            await ViewAsync(source, v => v.Peers.Count == 1, $"{a}: its view", op.Log);
            var published = Status(a, [new PublishedArrow("a1", b, "root", TunnelTechnology.WireGuard, 51820)]);
            var before = DateTimeOffset.UtcNow;
            await source.PublishAsync(published, CancellationToken.None);
            var first = StatusHeartbeat.Parse((await MeshNodeAsync(a, test)).Status!.Heartbeat);
            Assert.NotNull(first);
            Assert.InRange(first.Value, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));

            // Within the heartbeat, the same status writes nothing, nor does one whose churn counters
            // alone moved (they ride along with other writes); past it, the status is written with a
            // new heartbeat and the counters as they are then.
            await source.PublishAsync(published, CancellationToken.None);
            Assert.Equal(1, source.Writes);
            await source.PublishAsync(published with { Churn = Churn(periods: 5) }, CancellationToken.None);
            Assert.Equal(1, source.Writes);
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            await source.PublishAsync(published with { Churn = Churn(periods: 6) }, CancellationToken.None);
            Assert.Equal(2, source.Writes);
            var written = (await MeshNodeAsync(a, test)).Status!;
            Assert.Equal(6, written.Churn!.Periods);
            var second = StatusHeartbeat.Parse(written.Heartbeat);
            Assert.True(second > first, $"the heartbeat did not move: {first:O} then {second:O}");

            // The agent read the API server's clock off its answers: the same machine's, so no offset.
            Assert.Equal(0, written.ClockOffsetSeconds);
        });
    }

    private static ChurnFigures Churn(int periods) =>
        new(DateTimeOffset.UnixEpoch, periods, periods * 3, periods, 0, 10, new Dictionary<string, int> { ["random"] = 3 + periods });

    [Fact]
    public async Task ThePlanAndPolicy_AreCheckedOncePerGeneration_AndAgainWhenTheSpecChanges()
    {
        await WithMeshAsync("src-gen", 2, async (test, nodes, op) =>
        {
            var a = nodes[0];
            await using var source = MeshNodeMembershipSource.Start(server.AgentApi, a, test, watchSeconds: 1);
            var first = await ViewAsync(source, v => v.Peers.Count == 1, $"{a}: its view", op.Log);
            var again = await source.ReadAsync(CancellationToken.None);
            Assert.Same(first.Policy, again!.Policy);
            Assert.Same(first.Plan, again.Plan);

            // A new generation of the spec (here by hand; the operator then writes its own back) is checked again.
            var generation = (await MeshNodeAsync(a, test)).Metadata.Generation;
            await server.Admin.CustomObjects.PatchClusterCustomObjectAsync(
                new V1Patch(new { spec = new { babel = new { helloInterval = "3s" } } }, V1Patch.PatchType.MergePatch), Group.Name, Group.Version, V1Alpha1MeshNode.Plural, V1Alpha1MeshNode.NameFor(a, test));
            Assert.True((await MeshNodeAsync(a, test)).Metadata.Generation > generation, "the patch made no new generation");
            await ViewAsync(source, v => !ReferenceEquals(v.Policy, first.Policy), $"{a}: its policy checked again", op.Log);
        });
    }

    [Fact]
    public async Task AgentToken_WritesTheStatusOnly()
    {
        await WithMeshAsync("src-rbac", 1, async (test, nodes, op) =>
        {
            var name = V1Alpha1MeshNode.NameFor(nodes[0], test);
            var before = await MeshNodeAsync(nodes[0], test);

            var spec = new V1Patch(new { spec = new { ipv6Prefix = "fd5e::/64" } }, V1Patch.PatchType.MergePatch);
            var denied = await Assert.ThrowsAsync<HttpOperationException>(() => server.Agent.CustomObjects.PatchClusterCustomObjectAsync(spec, Group.Name, Group.Version, V1Alpha1MeshNode.Plural, name));
            Assert.Equal(HttpStatusCode.Forbidden, denied.Response.StatusCode);

            // Through the status subresource the API server keeps only the status, whatever else the patch says.
            var both = new V1Patch(new { spec = new { ipv6Prefix = "fd5e::/64" }, status = new { publicKey = "c3RhdHVzc3RhdHVzc3RhdHVzc3RhdHVzc3RhdHVzc3Q=" } }, V1Patch.PatchType.MergePatch);
            await server.Agent.CustomObjects.PatchClusterCustomObjectStatusAsync(both, Group.Name, Group.Version, V1Alpha1MeshNode.Plural, name);
            var after = await MeshNodeAsync(nodes[0], test);
            Assert.Equal("c3RhdHVzc3RhdHVzc3RhdHVzc3RhdHVzc3RhdHVzc3Q=", after.Status!.PublicKey);
            Assert.Equal(before.Spec.Ipv6Prefix, after.Spec.Ipv6Prefix);
        });
    }

    [Fact]
    public async Task Order2_AMemberSeesItsOwnSubMeshOnly_ABridgeSeesBoth()
    {
        await WithMeshAsync("src-order2", 16, async (test, nodes, op) =>
        {
            var all = await _cluster.MeshNodesAsync(test);
            static bool In(V1Alpha1MeshNode m, string subMesh) => m.Spec.Memberships.Any(x => x.SubMesh == subMesh);
            var member = all.First(m => m.Spec.Role == "member");
            var home = member.Spec.HomeSubMesh;
            var bridge = all.First(m => m.Spec.Role == "bridge" && m.Spec.HomeSubMesh == home);
            var away = Assert.Single(bridge.Spec.Memberships, x => x.Role == "bridge").SubMesh;
            var elsewhere = all.First(m => m.Spec.HomeSubMesh == away && !In(m, home));

            await using var memberSource = MeshNodeMembershipSource.Start(server.AgentApi, member.Spec.Node, test);
            await using var bridgeSource = MeshNodeMembershipSource.Start(server.AgentApi, bridge.Spec.Node, test);
            var expected = all.Where(m => In(m, home) && m != member).Select(m => m.Spec.Node).Order(StringComparer.Ordinal).ToList();
            var memberView = await ViewAsync(memberSource, v => v.Peers.Count == expected.Count, $"{member.Spec.Node}: the peers of sub-mesh {home}", op.Log);
            Assert.Equal(expected, memberView.Peers.Select(p => p.Node.Name));
            Assert.DoesNotContain(memberView.Peers, p => p.Node.Name == elsewhere.Spec.Node);
            Assert.All(memberView.Peers, p => Assert.Equal([home], p.SubMeshes));

            var bridgeExpected = all.Where(m => (In(m, home) || In(m, away)) && m != bridge).Select(m => m.Spec.Node).Order(StringComparer.Ordinal).ToList();
            var bridgeView = await ViewAsync(bridgeSource, v => v.Peers.Count == bridgeExpected.Count, $"{bridge.Spec.Node}: the peers of {home} and {away}", op.Log);
            Assert.Equal(bridgeExpected, bridgeView.Peers.Select(p => p.Node.Name));
            Assert.Equal([away], bridgeView.Peers.Single(p => p.Node.Name == elsewhere.Spec.Node).SubMeshes);
            Assert.Equal([home], bridgeView.Peers.Single(p => p.Node.Name == member.Spec.Node).SubMeshes);
            Assert.Equal(2, bridgeView.Plan.Memberships.Count);
        }, edit: s => { s.Order = 2; s.SubMeshes = [2]; s.BridgeShare = 0.1; });
    }

    [Fact]
    public async Task Keys_FromTheMeshSecret_AreAllListed_AndTheAnnotatedOneSigns()
    {
        await WithMeshAsync("src-keys", 2, async (test, nodes, op) =>
        {
            await using var source = MeshNodeMembershipSource.Start(server.AgentApi, nodes[0], test);
            var secret = await server.Admin.CoreV1.ReadNamespacedSecretAsync(KeySecrets.NameFor(test), ApiServer.OperatorNamespace);
            var (firstId, firstValue) = Assert.Single(secret.Data);

            var first = await KeysAsync(source, k => k.Keys.Count == 1, "the mesh's key", op.Log);
            Assert.Equal(firstId, first.SigningKeyId);
            Assert.Equal(Encoding.ASCII.GetString(firstValue), first.Signing.HexValue);

            // A second key that signs (its id dates it far ahead, so the operator does not rotate it away).
            const string next = "k9999999999";
            secret.Data[next] = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
            secret.Metadata.Annotations[KeySecrets.SigningAnnotation] = next;
            await server.Admin.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, ApiServer.OperatorNamespace);

            var both = await KeysAsync(source, k => k.Keys.Count == 2, "both keys", op.Log);
            Assert.Equal(next, both.SigningKeyId);
            Assert.Equal([firstId, next], both.Keys.Select(k => k.Id).Order(StringComparer.Ordinal));
            var config = both.ApplyTo(new BabelConfig("/run/babeld.sock", [], []));
            Assert.Equal(next, config.DefaultKeyId);
            Assert.Equal(2, config.Keys.Count);
        });
    }

    private static PeerStatus Status(string node, IReadOnlyList<PublishedArrow> arrows, params AcceptedArrow[] accepted) =>
        new(node, IPAddress.Parse("fd5e:ff::a"), "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", arrows) { Accepted = accepted, Routes = 7, Technologies = TunnelTechnology.All, OpenVpnFingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89" };

    private static async Task<AgentView> ViewAsync(MeshNodeMembershipSource source, Func<AgentView, bool> check, string what, MemoryLogger log) =>
        (await Cluster.EventuallyAsync(() => source.ReadAsync(CancellationToken.None), v => v is not null && check(v), Bound, what, log, Describe))!;

    private static async Task<BabelKeyRing> KeysAsync(MeshNodeMembershipSource source, Func<BabelKeyRing, bool> check, string what, MemoryLogger log) =>
        (await Cluster.EventuallyAsync(() => source.ReadKeysAsync(CancellationToken.None), k => k is not null && check(k), Bound, what, log, k => k?.ToString() ?? "no keys"))!;

    private Task<V1Alpha1MeshNode> MeshNodeAsync(string node, string mesh) =>
        server.Admin.CustomObjects.GetClusterCustomObjectAsync<V1Alpha1MeshNode>(Group.Name, Group.Version, V1Alpha1MeshNode.Plural, V1Alpha1MeshNode.NameFor(node, mesh));

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, DirectoryMembershipSource.Json);

    private static string Describe(AgentView? view) => view is null
        ? "no view"
        : $"plan of {view.Plan.Name}; peers: " + string.Join(", ", view.Peers.Select(p => $"{p.Node.Name} [{string.Join(",", p.SubMeshes)}] {Json(p.Status)}"));

    /// <summary>The names <see cref="Cluster.CreateNodesAsync"/> gives, known before anything is created so that clean-up misses nothing.</summary>
    private static List<string> NodeNames(string test, int count) => [.. Enumerable.Range(0, count).Select(i => $"{test}-{i:D3}")];

    /// <summary>
    /// Runs <paramref name="body"/> (given the mesh's name, its nodes and the operator) once the
    /// operator has planned a Mesh over <paramref name="count"/> new Nodes; removes them all after.
    /// </summary>
    private async Task WithMeshAsync(string prefix, int count, Func<string, List<string>, OperatorRun, Task> body, Action<MeshSpecResource>? edit = null)
    {
        var test = Cluster.NewName(prefix);
        var nodes = NodeNames(test, count);
        await using var op = await OperatorRun.StartAsync(server);
        try
        {
            await _cluster.CreateNodesAsync(test, count, new Dictionary<string, string> { ["re6st.io/test"] = test });
            await _cluster.CreateAsync(Cluster.Mesh(test, test, edit), V1Alpha1Mesh.Plural);
            await _cluster.PlannedMeshAsync(test, count, op.Log);
            await body(test, nodes, op);
        }
        finally
        {
            await CleanUpAsync(test, nodes, op.Log);
        }
    }

    /// <summary>The mesh (with its MeshNodes and key Secret, through the operator's finalizer), the Nodes, and the policy.</summary>
    private async Task CleanUpAsync(string mesh, IEnumerable<string> nodes, MemoryLogger log, string? policy = null)
    {
        if (await _cluster.MeshAsync(mesh) is not null)
        {
            await _cluster.DeleteMeshAsync(mesh);
            await Cluster.EventuallyAsync(() => _cluster.MeshAsync(mesh), m => m is null, Bound, $"mesh {mesh} deleted", log);
        }

        foreach (var node in nodes)
        {
            await IfPresentAsync(() => _cluster.DeleteNodeAsync(node));
        }

        if (policy is not null)
        {
            await IfPresentAsync(() => server.Admin.CustomObjects.DeleteClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural, policy));
        }
    }

    private static async Task IfPresentAsync(Func<Task> delete)
    {
        try
        {
            await delete();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }
}
