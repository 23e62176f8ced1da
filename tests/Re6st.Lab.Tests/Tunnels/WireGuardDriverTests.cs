using System.Net;
using Re6st.Agent.Host;
using Re6st.Agent.Tunnels;
using Re6st.Core.Policy;
using Re6st.Lab.Netns;

namespace Re6st.Lab.Tests.Tunnels;

public sealed class WireGuardDriverTests
{
    [Fact]
    public async Task Arrow_BetweenTwoHosts_CarriesLinkLocalTraffic_AndDeletingItLeavesNothing()
    {
        await using var lab = await NetnsLab.CreateAsync();
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        var (va, vb) = await lab.LinkAsync(a, b);
        await lab.IpAsync(a, "address", "add", "fd5e:ff00::1/64", "dev", va, "nodad");
        await lab.IpAsync(b, "address", "add", "fd5e:ff00::2/64", "dev", vb, "nodad");

        var keysA = await WireGuardKeys.CreateAsync(new HostShell(), CancellationToken.None);
        var keysB = await WireGuardKeys.CreateAsync(new HostShell(), CancellationToken.None);
        await using var driverA = await WireGuardDriver.CreateAsync(new HostShell(a.Namespace), keysA, lab.PathFor("a-state"), CancellationToken.None);
        await using var driverB = await WireGuardDriver.CreateAsync(new HostShell(b.Namespace), keysB, lab.PathFor("b-state"), CancellationToken.None);
        Assert.Equal(driverA.Implementation, driverB.Implementation);

        // Interface names are machine-wide for wireguard-go: they carry the lab's run id.
        var ifA = $"{lab.RunId}wab";
        var ifB = $"{lab.RunId}wba";
        try
        {
            await driverA.CreateAsync(new TunnelSpec(ifA, TunnelTechnology.WireGuard, keysB.PublicKey, new IPEndPoint(IPAddress.Parse("fd5e:ff00::2"), 51821), 51820, IPAddress.Parse("fe80::a")), CancellationToken.None);
            await driverB.CreateAsync(new TunnelSpec(ifB, TunnelTechnology.WireGuard, keysA.PublicKey, new IPEndPoint(IPAddress.Parse("fd5e:ff00::1"), 51820), 51821, IPAddress.Parse("fe80::b")), CancellationToken.None);
            Assert.Equal([ifA], driverA.Interfaces);

            var ping = await lab.InAsync(a, "ping", "-6", "-n", "-q", "-c", "5", "-i", "0.2", "-W", "2", $"fe80::b%{ifA}");
            Assert.Contains(" 0% packet loss", ping.Output, StringComparison.Ordinal);
            var show = await lab.InAsync(a, "wg", "show", ifA);
            Assert.Contains(keysB.PublicKey, show.Output, StringComparison.Ordinal);
            Assert.Contains("allowed ips: ::/0, 0.0.0.0/0", show.Output, StringComparison.Ordinal);
        }
        finally
        {
            await driverA.RemoveAllAsync(CancellationToken.None);
            await driverB.RemoveAllAsync(CancellationToken.None);
        }

        Assert.NotEqual(0, (await Command.RunAsync("ip", ["-n", a.Namespace, "link", "show", ifA], check: false)).ExitCode);
        Assert.Empty(driverA.Interfaces);
        Assert.False(File.Exists($"/var/run/wireguard/{ifA}.sock"), "wireguard-go left its socket behind");
        var leftover = await Command.RunAsync("pgrep", ["-f", $"wireguard-go {lab.RunId}"], check: false);
        Assert.True(leftover.ExitCode != 0, "a wireguard-go process is still running: " + leftover.Output);
    }

    [Fact]
    public async Task AgentRestart_AdoptsItsTunnels_InsteadOfCuttingThem()
    {
        await using var lab = await NetnsLab.CreateAsync();
        var a = await lab.AddHostAsync("a");
        var keys = await WireGuardKeys.CreateAsync(new HostShell(), CancellationToken.None);
        var peer = await WireGuardKeys.CreateAsync(new HostShell(), CancellationToken.None);
        var name = $"{lab.RunId}wax";
        var first = await WireGuardDriver.CreateAsync(new HostShell(a.Namespace), keys, lab.PathFor("state"), CancellationToken.None);
        await first.CreateAsync(new TunnelSpec(name, TunnelTechnology.WireGuard, peer.PublicKey, null, 51830, IPAddress.Parse("fe80::a")), CancellationToken.None);
        await first.DisposeAsync();
        Assert.Equal(0, (await Command.RunAsync("ip", ["-n", a.Namespace, "link", "show", name], check: false)).ExitCode);

        await using var second = await WireGuardDriver.CreateAsync(new HostShell(a.Namespace), keys, lab.PathFor("state"), CancellationToken.None);
        Assert.Equal([name], await second.AdoptAsync(lab.RunId + "w", CancellationToken.None));
        await second.RemoveAllAsync(CancellationToken.None);
        Assert.NotEqual(0, (await Command.RunAsync("ip", ["-n", a.Namespace, "link", "show", name], check: false)).ExitCode);
    }
}
