using System.Security.Cryptography;
using Re6st.Agent.Babel;
using Re6st.Agent.Lifecycle;
using Re6st.Core.Addressing;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

/// <summary>Trust no node: speakers without the mesh's key get real tunnels, or a wire, but no route in or out.</summary>
public sealed class RogueSpeakerTests(ITestOutputHelper output)
{
    private const string Rogue = "rog";
    private const string Outsider = "out";

    private static readonly MeshSpec Flat = new() { Ipv6Range = "fd5e:6a00::/48", Ipv4Range = "10.66.0.0/16", Ipv4NodePrefixLength = 24 };

    private static readonly RandomizationPolicySpec Policy = new() { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "10m" };

    [Fact(Timeout = 180_000)]
    public async Task MemberWithAnotherKey_AndKeylessBabeldOnTheUnderlay_GetNoRouteAccepted_LearnNothing_WhileHonestHostsConvergeAndPing()
    {
        var honest = LabOperator.HostNames(5);
        var plan = LabOperator.Plan(Flat, [.. honest, Rogue], seed: 5);
        var plans = Enumerable.Range(0, plan.NodeCount).Select(plan.NodePlanFor).ToList();

        // The rogue is a member (it gets arrows) and claims a more specific of a's prefixes and the
        // default routes, so that each would draw traffic if accepted.
        var target = plans.Single(p => p.Name == honest[0]);
        IpPrefix[] bogus = [target.Ipv6Prefix.Subprefix(0, 80), IpPrefix.Parse("::/0"), target.Ipv4Prefix!.Value.Subprefix(0, 28), IpPrefix.Parse("0.0.0.0/0")];
        var rogue = plans.Single(p => p.Name == Rogue);
        plans[plans.IndexOf(rogue)] = rogue with { Memberships = [rogue.Memberships[0] with { Announce = [.. rogue.Memberships[0].Announce, .. bogus] }] };
        var otherKey = new Dictionary<string, BabelKey> { [Rogue] = BabelKey.FromBytes(AgentMesh.KeyId, RandomNumberGenerator.GetBytes(32)) };

        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        await using var mesh = await AgentMesh.StartAsync(lab, plans, Policy, seed: 13, otherKey, authenticationGrace: TimeSpan.FromSeconds(15));

        // A plain babeld without any key on the underlay, announcing its prefixes and a default route.
        var outsider = await mesh.AddUnderlayHostAsync(Outsider);
        await lab.IpAsync(outsider, "route", "add", "unreachable", "::/0", "proto", "static");
        var outsiderBabel = LabBabeld.Start(lab, outsider, LabBabeld.ConfigFor(lab, outsider, [new(mesh.UnderlayInterface(outsider))]) with
        {
            Announce = [outsider.Ipv6Prefix, outsider.Ipv4Prefix, IpPrefix.Parse("::/0")],
        });

        var honestHosts = honest.Select(mesh.Host).ToList();
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60), honestHosts);

        // The attack is real: the rogue's tunnels are up (WireGuard or OpenVPN) and its babeld originates the bogus prefixes.
        var rogueAgent = mesh.Agent(Rogue);
        await WaitAsync(() => Task.FromResult(rogueAgent.Arrows.Count >= Policy.ArrowsPerNode && TunnelsUp(rogueAgent)), "the rogue's tunnels to come up");
        await WaitAsync(() => Task.FromResult(bogus.All(p => rogueAgent.Babel.Xroutes.Values.Any(x => x.Prefix == p))), "the rogue to originate its bogus prefixes");
        await outsiderBabel.WaitForAsync(s => s.Xroutes.Count == 3);
        Assert.True(mesh.Agents.Sum(a => a.Arrows.Count(x => x.Peer == Rogue)) >= Policy.ArrowsPerNode, "honest hosts hold the other ends of the rogue's arrows");

        // Both have spoken for many hello intervals by now; a few more rule out a late acceptance.
        await Task.Delay(TimeSpan.FromSeconds(3));
        IpPrefix[] forbidden = [mesh.Host(Rogue).Ipv6Prefix, mesh.Host(Rogue).Ipv4Prefix, .. bogus, outsider.Ipv6Prefix, outsider.Ipv4Prefix];
        foreach (var host in honestHosts)
        {
            var agent = mesh.Agent(host.Name);
            var state = agent.Babel;
            var toRogue = agent.Arrows.Where(a => a.Peer == Rogue).Select(a => a.Interface).ToHashSet(StringComparer.Ordinal);
            Assert.DoesNotContain(state.Routes.Values, r => forbidden.Contains(r.Prefix));
            Assert.DoesNotContain(state.Routes.Values, r => toRogue.Contains(r.Interface));
            Assert.DoesNotContain(state.Neighbours.Values, n => toRogue.Contains(n.Interface));
            var kernel = await mesh.KernelRoutesAsync(host);
            Assert.DoesNotContain("default", kernel, StringComparison.Ordinal);
            Assert.All(forbidden.Where(p => p.Length > 0), p => Assert.DoesNotContain(p + " ", kernel, StringComparison.Ordinal));
        }

        // Nor did the rogue or the outsider learn anything: no neighbour, no route.
        foreach (var (name, state) in new[] { (Rogue, rogueAgent.Babel), (Outsider, outsiderBabel.State) })
        {
            Assert.True(state.Connected, $"{name}: {state}");
            Assert.True(state.Neighbours.IsEmpty && state.Routes.IsEmpty, $"{name} learned something: {state}");
        }

        // The honest hosts reach each other, a's address included (the rogue claims a more specific of it).
        var pairs = honestHosts.SelectMany(from => honestHosts.Where(to => to != from).Select(to => (from, to))).ToList();
        Assert.Empty(await mesh.PingAsync(pairs));
        Assert.Empty(await mesh.PingAsync(pairs, ipv4: true));

        // Trust no node: the honest ends of the rogue's arrows go once it has spoken no authenticated
        // Babel over them for the grace (15 s here), and no arrow between honest hosts ever does.
        var honestAgents = honest.Select(mesh.Agent).ToList();
        var honestArrows = honestAgents.SelectMany(a => a.Arrows.Where(x => x.Peer != Rogue).Select(x => x.Id)).ToHashSet(StringComparer.Ordinal);
        await WaitAsync(() => Task.FromResult(honestAgents.Sum(a => a.Decisions.GetValueOrDefault("destroyed/unauthenticated")) >= Policy.ArrowsPerNode), "the arrows to the rogue to be destroyed", seconds: 60);
        Assert.True(rogueAgent.Decisions.GetValueOrDefault("destroyed/unauthenticated") >= 1, "the rogue's own ends: " + string.Join(", ", rogueAgent.Decisions));
        Assert.Subset(honestAgents.SelectMany(a => a.Arrows.Select(x => x.Id)).ToHashSet(StringComparer.Ordinal), honestArrows);
    }

    /// <summary>Every arrow of the host carries packets both ways: the agent's probes inside its tunnel are answered.</summary>
    private static bool TunnelsUp(HostAgent agent) => agent.Arrows.All(a => agent.Probe(a.Interface) is { Up: true });

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited {seconds} s for {what}");
            }

            await Task.Delay(250);
        }
    }
}
