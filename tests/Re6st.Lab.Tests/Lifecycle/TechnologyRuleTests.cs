using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

public sealed class TechnologyRuleTests(ITestOutputHelper output)
{
    private static readonly IReadOnlyDictionary<string, string> Firewalled = new Dictionary<string, string> { ["firewall"] = "blocks-openvpn" };

    /// <summary>3 arrows per host drawn at random, no churn, and no OpenVPN for a host labelled <see cref="Firewalled"/>.</summary>
    private static readonly RandomizationPolicySpec Policy = new()
    {
        ArrowsPerNode = 3,
        SmallMeshSize = 0,
        RefreshPeriod = "10m",
        TechnologyRules = [new TechnologyRuleSpec { Technology = "openvpn", DenyWhen = new LabelSelectorSpec { MatchLabels = new Dictionary<string, string>(Firewalled) } }],
    };

    [Fact]
    public async Task HostsBehindAFirewallThatDropsOpenVpn_GetOnlyWireGuardArrows_AndTheMeshStaysConnected()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var labels = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["a"] = Firewalled, ["b"] = Firewalled };
        await using var mesh = await AgentMesh.StartAsync(lab, 6, Policy, seed: 3, labels);

        // The firewall: only WireGuard crosses the underlay at a and b. A WireGuard message starts
        // with its type (1 to 4); OpenVPN's first byte is its opcode and key id (0x20 and up).
        foreach (var host in mesh.Hosts.Where(h => labels.ContainsKey(h.Name)))
        {
            await FirewallAsync(lab, host);
        }

        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(90));
        var arrows = mesh.Agents.SelectMany(a => a.Arrows.Select(x => (a.Node, x.Peer, x.Technology))).ToList();
        output.WriteLine(string.Join(", ", arrows.Select(x => $"{x.Node}-{x.Peer}:{x.Technology}")));
        Assert.DoesNotContain(arrows, x => x.Technology == TunnelTechnology.OpenVpn && (labels.ContainsKey(x.Node) || labels.ContainsKey(x.Peer)));
        Assert.Contains(arrows, x => x.Technology == TunnelTechnology.OpenVpn);
        Assert.Contains(arrows, x => labels.ContainsKey(x.Node));

        // Had the rule been ignored, the firewalled hosts' OpenVPN arrows would have died and been replaced.
        Assert.All(mesh.Agents.Where(a => labels.ContainsKey(a.Node)), a => Assert.Equal(0, a.Decisions.GetValueOrDefault("destroyed/dead")));

        foreach (var from in mesh.Hosts)
        {
            foreach (var to in mesh.Hosts.Where(h => h != from))
            {
                var ping = await lab.PingAsync(from, to, count: 2);
                Assert.True(ping.ExitCode == 0, $"{from.Name} -> {to.Name}: {ping.Output}");
            }
        }
    }

    [Fact(Timeout = 240_000)]
    public async Task ALabelThatComesToDenyOpenVpn_DrainsTheHostsOpenVpnArrows_WhileOthersReplaceThem_AndNothingIsLost()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        await using var mesh = await AgentMesh.StartAsync(lab, 6, Policy, seed: 3);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(90));

        // The host with the most OpenVPN arrows (either end) gets the label; the rule then denies them.
        List<(string Node, string Peer, TunnelTechnology Technology)> Arrows() => [.. mesh.Agents.SelectMany(a => a.Arrows.Select(x => (a.Node, x.Peer, x.Technology)))];
        var labelled = mesh.Hosts.OrderByDescending(h => Arrows().Count(x => x.Technology == TunnelTechnology.OpenVpn && (x.Node == h.Name || x.Peer == h.Name))).First();
        bool Touches((string Node, string Peer, TunnelTechnology Technology) x) => x.Technology == TunnelTechnology.OpenVpn && (x.Node == labelled.Name || x.Peer == labelled.Name);
        var denied = Arrows().Count(Touches);
        output.WriteLine($"{labelled.Name} is labelled {string.Join(",", Firewalled)}: {denied} arrow ends of OpenVPN touch it");
        Assert.True(denied > 0, "no OpenVPN arrow touches the host: the change would show nothing");

        var pings = mesh.Hosts.Where(h => h != labelled).SelectMany(h => new[] { ContinuousPing.Start(labelled, h, TimeSpan.FromMilliseconds(100)), ContinuousPing.Start(h, labelled, TimeSpan.FromMilliseconds(100)) }).ToList();
        PingFigures[] figures;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            await mesh.RelabelAsync(labelled.Name, Firewalled);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (Arrows().Any(Touches) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }

            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        finally
        {
            figures = await ContinuousPing.StopAllAsync(pings);
        }

        foreach (var agent in mesh.Agents)
        {
            output.WriteLine(agent.DescribeDecisions());
        }

        var (sent, lost) = (figures.Sum(f => f.Sent), figures.Sum(f => f.Lost));
        output.WriteLine($"pings to and from {labelled.Name} across the change: {lost} lost of {sent}; longest outage {figures.Max(f => f.LongestOutage).TotalSeconds:F1} s");
        Assert.DoesNotContain(Arrows(), Touches);

        // Drained by their initiators and replaced, not refused under their traffic: no end died,
        // none was closed before its drain, and no one backed anyone off.
        Assert.True(mesh.Agents.Sum(a => a.Decisions.GetValueOrDefault("destroyed/technology")) > 0, "no arrow was drained for its technology");
        Assert.Equal(0, mesh.Agents.Sum(a => a.Decisions.GetValueOrDefault("destroyed/dead")));
        Assert.All(mesh.Agents, a => Assert.Empty(a.BackedOff));
        Assert.True(sent > 1500, $"{sent} pings");
        // 1 of 2,731 lost in a run alone; refused at once as before, 116 of 791 (15 %). The bound
        // leaves room for a loaded machine.
        Assert.True(lost <= sent / 100, $"the change lost more than 1 % of the pings to and from {labelled.Name}: {lost} of {sent}");
        Assert.Contains(Arrows(), x => x.Node == labelled.Name);
    }

    private static async Task FirewallAsync(NetnsLab lab, LabHost host)
    {
        var underlay = AgentMesh.UnderlayAddress(host).ToString();
        var script = $$"""
            table inet r6firewall {
              chain input { type filter hook input priority -10; ip6 daddr {{underlay}} meta l4proto udp @th,64,8 > 4 drop; }
              chain output { type filter hook output priority -10; ip6 saddr {{underlay}} meta l4proto udp @th,64,8 > 4 drop; }
            }
            """;
        var file = lab.PathFor("firewall-" + host.Name + ".nft");
        await File.WriteAllTextAsync(file, script);
        await lab.InAsync(host, "nft", "-f", file);
    }
}
