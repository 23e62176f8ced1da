using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Re6st.Core.Policy;
using Xunit.Abstractions;

namespace Re6st.Agent.Tests.Lifecycle;

public sealed class TechnologyRuleTests(ITestOutputHelper output)
{
    private static readonly IReadOnlyDictionary<string, string> Firewalled = new Dictionary<string, string> { ["firewall"] = "blocks-openvpn" };

    [Fact]
    public async Task HostsBehindAFirewallThatDropsOpenVpn_GetOnlyWireGuardArrows_AndTheMeshStaysConnected()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var policy = new RandomizationPolicySpec
        {
            ArrowsPerNode = 3,
            SmallMeshSize = 0,
            RefreshPeriod = "10m",
            TechnologyRules = [new TechnologyRuleSpec { Technology = "openvpn", DenyWhen = new LabelSelectorSpec { MatchLabels = new Dictionary<string, string>(Firewalled) } }],
        };
        var labels = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["a"] = Firewalled, ["b"] = Firewalled };
        await using var mesh = await AgentMesh.StartAsync(lab, 6, policy, seed: 3, labels);

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
