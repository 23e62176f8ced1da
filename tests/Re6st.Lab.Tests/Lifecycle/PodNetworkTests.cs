using System.Text.Json;
using Re6st.Agent.Host;
using Re6st.Agent.Lifecycle;
using Re6st.Core.Addressing;
using Re6st.Core.Planning;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

/// <summary>
/// The host's pod network as the agent makes it, in a lab host's network namespace: the CNI
/// configuration from the node's pod ranges, the nat table, the guard routes; a second apply
/// changes nothing; and removal leaves nothing, the bridge kept only while a pod is on it. Pods
/// using it are tested on real nodes (RealClusterTests).
/// </summary>
public sealed class PodNetworkTests(ITestOutputHelper output) : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static readonly PodRanges Pods = new(
        IpPrefix.Parse("fd5e:6e7:0:3:8000::/65"),
        IpPrefix.Parse("10.42.3.128/25"),
        IpPrefix.Parse("fd5e:6e7::/48"),
        IpPrefix.Parse("10.42.0.0/16"));

    private readonly string _conf = Directory.CreateTempSubdirectory("re6st-cni-").FullName;

    [Fact]
    public void ConfList_GivesPodsBothRangesFromTheStandardPlugins_WithoutTheirMasquerade()
    {
        using var json = JsonDocument.Parse(PodNetwork.ConfList(Pods));
        var plugins = json.RootElement.GetProperty("plugins");
        Assert.Equal(["bridge", "portmap"], plugins.EnumerateArray().Select(p => p.GetProperty("type").GetString()));
        var bridge = plugins[0];
        Assert.Equal(PodNetwork.Bridge, bridge.GetProperty("bridge").GetString());
        Assert.True(bridge.GetProperty("isGateway").GetBoolean());
        Assert.False(bridge.GetProperty("ipMasq").GetBoolean());
        var ipam = bridge.GetProperty("ipam");
        Assert.Equal("host-local", ipam.GetProperty("type").GetString());
        Assert.Equal(["10.42.3.128/25", "fd5e:6e7:0:3:8000::/65"], ipam.GetProperty("ranges").EnumerateArray().Select(r => r[0].GetProperty("subnet").GetString()));
        Assert.Equal(["0.0.0.0/0", "::/0"], ipam.GetProperty("routes").EnumerateArray().Select(r => r.GetProperty("dst").GetString()));

        // IPv6 only: one range, one default route.
        using var v6 = JsonDocument.Parse(PodNetwork.ConfList(Pods with { Ipv4 = null, MeshIpv4 = null }));
        Assert.Single(v6.RootElement.GetProperty("plugins")[0].GetProperty("ipam").GetProperty("ranges").EnumerateArray());
    }

    [Fact(Timeout = 60_000)]
    public async Task ApplyAsync_WritesTheConfigurationNatAndGuards_Idempotently_AndRemoveLeavesNothing()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var host = await lab.AddHostAsync("a", announce: false);
        var shell = new HostShell(host.Namespace);
        var said = new List<string>();
        var pods = new PodNetwork(shell, _conf, "re6", said.Add);

        await pods.ApplyAsync(Pods, None);
        Assert.Equal(PodNetwork.ConfList(Pods), await File.ReadAllTextAsync(Path.Combine(_conf, PodNetwork.FileName)));
        var nat = (await lab.InAsync(host, "nft", "list", "table", "inet", PodNetwork.Table)).Output;
        Assert.Contains("ip saddr 10.42.3.128/25 ip daddr != 10.42.0.0/16 masquerade", nat, StringComparison.Ordinal);
        Assert.Contains("ip6 saddr fd5e:6e7:0:3:8000::/65 ip6 daddr != fd5e:6e7::/48 masquerade", nat, StringComparison.Ordinal);

        // What only crosses this host, from an arrow, is not tracked; its own pods' packets are.
        Assert.Contains("iifname \"re6*\" iifname != \"re6st-pods\" ip daddr != 10.42.3.128/25 fib daddr type != local notrack", nat, StringComparison.Ordinal);
        Assert.Contains("iifname \"re6*\" iifname != \"re6st-pods\" ip6 daddr != fd5e:6e7:0:3:8000::/65 fib daddr type != local notrack", nat, StringComparison.Ordinal);
        Assert.Equal("unreachable 10.42.0.0/16 proto static metric 4000", (await lab.InAsync(host, "ip", "-4", "route", "show", "10.42.0.0/16")).Output.Trim());
        Assert.StartsWith("unreachable fd5e:6e7::/48 dev lo proto static metric 4000", (await lab.InAsync(host, "ip", "-6", "route", "show", "fd5e:6e7::/48")).Output.Trim(), StringComparison.Ordinal);

        // The same ranges again: nothing is rewritten or said.
        var lines = said.Count;
        var written = File.GetLastWriteTimeUtc(Path.Combine(_conf, PodNetwork.FileName));
        await pods.ApplyAsync(Pods, None);
        Assert.Equal(lines, said.Count);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(_conf, PodNetwork.FileName)));

        // A pod on the bridge keeps it at removal; everything else goes.
        await lab.InAsync(host, "ip", "link", "add", PodNetwork.Bridge, "type", "bridge");
        await lab.InAsync(host, "ip", "link", "add", "r6pod", "type", "veth", "peer", "name", "r6podpeer");
        await lab.InAsync(host, "ip", "link", "set", "r6pod", "master", PodNetwork.Bridge);
        await pods.RemoveAsync(None);
        Assert.False(File.Exists(Path.Combine(_conf, PodNetwork.FileName)));
        Assert.DoesNotContain(PodNetwork.Table, (await lab.InAsync(host, "nft", "list", "tables")).Output, StringComparison.Ordinal);
        Assert.Equal("", (await lab.InAsync(host, "ip", "route", "show", "proto", "static", "10.42.0.0/16")).Output.Trim());
        Assert.Equal("", (await lab.InAsync(host, "ip", "-6", "route", "show", "proto", "static", "fd5e:6e7::/48")).Output.Trim());
        Assert.Contains(said, l => l.Contains($"bridge {PodNetwork.Bridge} kept: 1 pod(s)", StringComparison.Ordinal));
        Assert.True(await BridgeExistsAsync(host), "the bridge with a pod on it was removed");

        // Once the pod is gone, a later removal (the next run's, after a plan without pods) takes the bridge.
        await lab.InAsync(host, "ip", "link", "del", "r6pod");
        await pods.ApplyAsync(Pods, None);
        await pods.ApplyAsync(null, None);
        Assert.False(await BridgeExistsAsync(host), "the bridge is left with no pod on it");
        Assert.False(File.Exists(Path.Combine(_conf, PodNetwork.FileName)));
    }

    private static async Task<bool> BridgeExistsAsync(LabHost host) =>
        (await Command.RunAsync("ip", ["netns", "exec", host.Namespace, "ip", "link", "show", PodNetwork.Bridge], check: false)).ExitCode == 0;

    public void Dispose() => Directory.Delete(_conf, recursive: true);
}
