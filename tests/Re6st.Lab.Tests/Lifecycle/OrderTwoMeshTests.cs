using Re6st.Agent.Lifecycle;
using Re6st.Core.Addressing;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

public sealed class OrderTwoMeshTests(ITestOutputHelper output)
{
    // Two sub-meshes of five homes each; 10 % of five rounds to one, so MinBridges (2) elects two
    // bridges per sub-mesh: four between the pair, and one can die.
    private static readonly MeshSpec TwoSubMeshes = new()
    {
        Ipv6Range = "fd5e:6a00::/48",
        Ipv4Range = "10.66.0.0/16",
        Ipv4NodePrefixLength = 24,
        Order = 2,
        SubMeshes = [2],
        BridgeShare = 0.1,
        MinBridges = 2,
    };

    // Four arrows per host and sub-mesh: a sub-mesh of seven speakers stays connected when any one dies.
    private static readonly RandomizationPolicySpec Policy = new() { ArrowsPerNode = 4, SmallMeshSize = 0, RefreshPeriod = "10m" };

    [Fact(Timeout = 240_000)]
    public async Task OrderTwoPlan_MembersInstallTheirSubMeshAndTheOtherAggregateOnly_PingAcross_AndStillDoWhenABridgeDies()
    {
        var plan = LabOperator.Plan(TwoSubMeshes, LabOperator.HostNames(10), seed: 3);
        var tree = plan.Tree;
        int[] leaves = [tree.FirstLeaf, tree.FirstLeaf + 1];
        Assert.Equal(2, tree.LeafCount);
        Assert.All(leaves, leaf => Assert.Equal(5, plan.HomeMembers(leaf).Length));
        Assert.True(plan.Bridges.Count >= 2, $"the plan has {plan.Bridges.Count} bridge(s) between the two sub-meshes: losing one must leave another");
        var plans = Enumerable.Range(0, plan.NodeCount).Select(plan.NodePlanFor).ToList();
        var bridges = plans.Where(p => p.IsBridge).Select(p => p.Name).ToList();
        var members = leaves.ToDictionary(leaf => leaf, leaf => plans.Where(p => !p.IsBridge && p.HomeSubMesh == tree.IdOf(leaf)).Select(p => p.Name).ToList());
        Assert.All(leaves, leaf => Assert.True(members[leaf].Count >= 2, $"sub-mesh {tree.IdOf(leaf)} has {members[leaf].Count} plain member(s)"));

        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        lab.Log($"sub-meshes: {string.Join("; ", leaves.Select(l => $"{tree.IdOf(l)} {tree.Ipv6RangeOf(l)} {tree.Ipv4RangeOf(l)}: {string.Join(",", plan.HomeMembers(l).ToArray().Select(i => plan.Nodes[i].Name))}"))}; bridges: {string.Join(", ", bridges)}");
        await using var mesh = await AgentMesh.StartAsync(lab, plans, Policy, seed: 11);

        // A plain member's table: its sub-mesh's node prefixes, and the other sub-mesh as one
        // aggregate. A bridge speaks in both sub-meshes and holds both sets of node prefixes.
        var specifics = leaves.ToDictionary(leaf => leaf, leaf => plan.HomeMembers(leaf).ToArray().SelectMany(i => new[] { plan.Ipv6PrefixOf(i), plan.Ipv4PrefixOf(i)!.Value }).ToList());
        IpPrefix[] Aggregate(int leaf) => [tree.Ipv6RangeOf(leaf), tree.Ipv4RangeOf(leaf)!.Value];
        int LeafOf(string host) => plan.HomeOf(plan.IndexOf(host));
        int OtherLeaf(int leaf) => leaf == leaves[0] ? leaves[1] : leaves[0];
        var own = plans.ToDictionary(p => p.Name, p => new[] { p.Ipv6Prefix, p.Ipv4Prefix!.Value });
        var expected = plans.ToDictionary(
            p => p.Name,
            p => (IReadOnlyCollection<IpPrefix>)[.. (p.IsBridge ? specifics[leaves[0]].Concat(specifics[leaves[1]]) : specifics[LeafOf(p.Name)].Concat(Aggregate(OtherLeaf(LeafOf(p.Name))))).Except(own[p.Name])]);
        var started = DateTime.UtcNow;
        await mesh.WaitForRoutesAsync(TimeSpan.FromSeconds(90), expected);
        lab.Log($"converged in {(DateTime.UtcNow - started).TotalSeconds:F1} s");

        // Every announcement left its host with the first updates; a few more update intervals rule out a late leak.
        await Task.Delay(TimeSpan.FromSeconds(3));
        foreach (var name in members.Values.SelectMany(m => m))
        {
            var state = mesh.Agent(name).Babel;
            Assert.Equal(expected[name].Order(), state.Routes.Values.Where(r => r.Carries).Select(r => r.Prefix).Distinct().Order());
            var kernel = await mesh.KernelRoutesAsync(mesh.Host(name));
            Assert.All(Aggregate(OtherLeaf(LeafOf(name))), p => Assert.Contains(p + " ", kernel, StringComparison.Ordinal));
            Assert.All(specifics[OtherLeaf(LeafOf(name))], p => Assert.DoesNotContain(p + " ", kernel, StringComparison.Ordinal));
        }

        // Across the sub-meshes, both ways, over IPv6 and IPv4 (v4-via-v6).
        var hosts = members.ToDictionary(m => m.Key, m => m.Value.Select(mesh.Host).ToList());
        List<(LabHost From, LabHost To)> across =
        [
            .. hosts[leaves[0]].Zip(hosts[leaves[1]]),
            .. hosts[leaves[1]].Zip(Enumerable.Reverse(hosts[leaves[0]])),
        ];
        Assert.Empty(await mesh.PingAsync(across));
        Assert.Empty(await mesh.PingAsync(across, ipv4: true));

        // The bridge that most members reach the other sub-mesh through directly dies.
        var plain = members.Values.SelectMany(m => m).ToList();
        var nextHops = plain.ToDictionary(m => m, m => NextHopPeer(mesh.Agent(m), Aggregate(OtherLeaf(LeafOf(m)))[0]));
        var victim = bridges.MaxBy(b => nextHops.Values.Count(peer => peer == b))!;
        lab.Log($"killing bridge {victim}; members whose route to the other sub-mesh goes straight to it: {string.Join(",", nextHops.Where(h => h.Value == victim).Select(h => h.Key))}");
        var killed = DateTime.UtcNow;
        await mesh.KillHostAsync(victim);

        // A silent neighbour's routes lose out after a few missed hellos (1 s each here).
        var bound = TimeSpan.FromSeconds(30);
        IReadOnlyList<string> failed;
        do
        {
            var rounds = await Task.WhenAll(mesh.PingAsync(across), mesh.PingAsync(across, ipv4: true));
            failed = [.. rounds.SelectMany(r => r)];
        }
        while (failed.Count > 0 && DateTime.UtcNow - killed < bound);

        Assert.True(failed.Count == 0, $"{bound.TotalSeconds:F0} s after bridge {victim} died, pings across still fail:\n{string.Join('\n', failed)}");
        lab.Log($"every pair pings across again {(DateTime.UtcNow - killed).TotalSeconds:F1} s after bridge {victim} died");

        // The dead bridge's own routes expire later (3.5 update intervals of 4 hellos): then none is left through it.
        int ViaVictim(HostAgent a) => a.Babel.Routes.Values.Count(r => r.Carries && a.Arrows.Any(x => x.Interface == r.Interface && x.Peer == victim));
        while (mesh.Agents.Any(a => ViaVictim(a) > 0) && DateTime.UtcNow - killed < bound)
        {
            await Task.Delay(250);
        }

        Assert.All(mesh.Agents, a => Assert.True(ViaVictim(a) == 0, $"{a.Node} still routes through dead bridge {victim}: {a.Babel}"));
        lab.Log($"no route goes through bridge {victim} {(DateTime.UtcNow - killed).TotalSeconds:F1} s after it died");
    }

    /// <summary>The peer at the other end of the arrow that carries this host's route to <paramref name="prefix"/>.</summary>
    private static string? NextHopPeer(HostAgent agent, IpPrefix prefix)
    {
        var route = agent.Babel.InstalledRouteTo(prefix);
        return agent.Arrows.FirstOrDefault(a => a.Interface == route?.Interface)?.Peer;
    }
}
