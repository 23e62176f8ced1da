using System.Diagnostics;
using System.Net;
using Re6st.Agent.Host;
using Re6st.Agent.Tunnels;
using Re6st.Core.Policy;
using Re6st.Lab.Netns;
using Re6st.Runtime;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Tunnels;

public sealed class OpenVpnDriverTests(ITestOutputHelper output)
{
    private static readonly IPAddress UnderlayA = IPAddress.Parse("fd5e:ff00::1");
    private static readonly IPAddress UnderlayB = IPAddress.Parse("fd5e:ff00::2");

    // A TLS handshake takes about a second here; this bounds it with a wide margin.
    private static readonly TimeSpan HandshakeBound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Arrow_BetweenTwoHosts_CarriesLinkLocalTraffic_AndDeletingItLeavesNothing()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var (a, b) = await TwoLinkedHostsAsync(lab);
        var identityA = await OpenVpnIdentity.LoadOrCreateAsync(lab.PathFor("a-id"), "a", CancellationToken.None);
        var identityB = await OpenVpnIdentity.LoadOrCreateAsync(lab.PathFor("b-id"), "b", CancellationToken.None);
        await using var driverA = await OpenVpnDriver.CreateAsync(new HostShell(a.Namespace), identityA, lab.PathFor("a-state"), CancellationToken.None);
        await using var driverB = await OpenVpnDriver.CreateAsync(new HostShell(b.Namespace), identityB, lab.PathFor("b-state"), CancellationToken.None);
        Assert.Equal("openvpn", driverA.Implementation);

        // Interface names carry the lab's run id, so pgrep can tell this run's processes apart.
        var ifA = $"{lab.RunId}oab";
        var ifB = $"{lab.RunId}oba";
        try
        {
            var clock = Stopwatch.StartNew();
            await driverA.CreateAsync(Spec(ifA, identityB, new IPEndPoint(UnderlayB, 1195), 1194, "fe80::a"), CancellationToken.None);
            await driverB.CreateAsync(Spec(ifB, identityA, new IPEndPoint(UnderlayA, 1194), 1195, "fe80::b"), CancellationToken.None);
            lab.Log($"both ends created after {clock.ElapsedMilliseconds} ms");
            Assert.Equal([ifA], driverA.Interfaces);

            Assert.True(await FirstPingAsync(lab, a, ifA, "fe80::b"), $"no ping through {ifA} within {HandshakeBound.TotalSeconds} s: {string.Join('\n', await driverA.LastLogLinesAsync(ifA, 15, CancellationToken.None))}");
            lab.Log($"first ping answered after {clock.ElapsedMilliseconds} ms");
            var ping = await PingAsync(lab, a, ifA, "fe80::b", 5);
            Assert.Contains(" 0% packet loss", ping.Output, StringComparison.Ordinal);

            // A packet that fills the MTU passes unfragmented inside (1372 + 8 ICMPv6 + 40 IPv6 = 1420).
            var full = await Command.RunAsync("ip", ["netns", "exec", a.Namespace, "ping", "-6", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", "-s", "1372", "-M", "do", $"fe80::b%{ifA}"], check: false);
            Assert.Contains(" 0% packet loss", full.Output, StringComparison.Ordinal);

            // Only the spec's link-local address (no kernel-made one for Babel to pick), and the spec's MTU.
            var addresses = await lab.IpAsync(a, "-o", "-6", "address", "show", "dev", ifA);
            Assert.Single(addresses.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("inet6 fe80::a/64 scope link", addresses.Output, StringComparison.Ordinal);
            Assert.Contains(" mtu 1420 ", (await lab.IpAsync(a, "link", "show", ifA)).Output, StringComparison.Ordinal);
            Assert.Contains(await driverA.LastLogLinesAsync(ifA, 50, CancellationToken.None), l => l.Contains("cipher 'AES-256-GCM'", StringComparison.Ordinal));
        }
        finally
        {
            await driverA.RemoveAllAsync(CancellationToken.None);
            await driverB.RemoveAllAsync(CancellationToken.None);
        }

        Assert.NotEqual(0, (await Command.RunAsync("ip", ["-n", a.Namespace, "link", "show", ifA], check: false)).ExitCode);
        Assert.NotEqual(0, (await Command.RunAsync("ip", ["-n", b.Namespace, "link", "show", ifB], check: false)).ExitCode);
        Assert.Empty(driverA.Interfaces);
        await AssertNoOpenVpnAsync(lab.RunId);
    }

    [Fact]
    public async Task PeerWithAnotherCertificate_ThanThePinnedOne_GetsNoTunnel()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var (a, b) = await TwoLinkedHostsAsync(lab);

        // A pins B; an impostor at B's address pins A (A's fingerprint is public). Sorted so that A
        // is the TLS server and both B and the impostor are clients: the roles match, and only the
        // certificate differs between the failing and the working attempt.
        var ids = new List<OpenVpnIdentity>();
        foreach (var name in new[] { "x", "y", "z" })
        {
            ids.Add(await OpenVpnIdentity.LoadOrCreateAsync(lab.PathFor($"{name}-id"), name, CancellationToken.None));
        }

        ids.Sort((l, r) => string.CompareOrdinal(l.Fingerprint, r.Fingerprint));
        var (identityA, identityB, impostor) = (ids[0], ids[1], ids[2]);
        Assert.True(OpenVpnArguments.IsTlsServer(identityA.Fingerprint, identityB.Fingerprint));
        Assert.False(OpenVpnArguments.IsTlsServer(impostor.Fingerprint, identityA.Fingerprint));

        await using var driverA = await OpenVpnDriver.CreateAsync(new HostShell(a.Namespace), identityA, lab.PathFor("a-state"), CancellationToken.None);
        await using var fake = await OpenVpnDriver.CreateAsync(new HostShell(b.Namespace), impostor, lab.PathFor("fake-state"), CancellationToken.None);
        await using var driverB = await OpenVpnDriver.CreateAsync(new HostShell(b.Namespace), identityB, lab.PathFor("b-state"), CancellationToken.None);
        var ifA = $"{lab.RunId}oab";
        var ifB = $"{lab.RunId}oba";
        try
        {
            await driverA.CreateAsync(Spec(ifA, identityB, new IPEndPoint(UnderlayB, 1195), 1194, "fe80::a"), CancellationToken.None);
            await fake.CreateAsync(Spec(ifB, identityA, new IPEndPoint(UnderlayA, 1194), 1195, "fe80::b"), CancellationToken.None);

            // Wait for A to see and refuse the impostor's certificate, then check nothing passes.
            var clock = Stopwatch.StartNew();
            while (!(await driverA.LastLogLinesAsync(ifA, 200, CancellationToken.None)).Any(l => l.Contains("certificate hash verification failed", StringComparison.Ordinal)))
            {
                Assert.True(clock.Elapsed < HandshakeBound, $"A never refused the impostor within {HandshakeBound.TotalSeconds} s");
                await Task.Delay(50);
            }

            lab.Log($"impostor refused after {clock.ElapsedMilliseconds} ms");
            var ping = await PingAsync(lab, a, ifA, "fe80::b", 5);
            Assert.Contains(" 100% packet loss", ping.Output, StringComparison.Ordinal);

            // Control: the same arrow from the pinned certificate works.
            await fake.DeleteAsync(ifB, CancellationToken.None);
            await driverB.CreateAsync(Spec(ifB, identityA, new IPEndPoint(UnderlayA, 1194), 1195, "fe80::b"), CancellationToken.None);
            Assert.True(await FirstPingAsync(lab, a, ifA, "fe80::b"), $"the genuine peer got no tunnel within {HandshakeBound.TotalSeconds} s");
        }
        finally
        {
            await driverA.RemoveAllAsync(CancellationToken.None);
            await fake.RemoveAllAsync(CancellationToken.None);
            await driverB.RemoveAllAsync(CancellationToken.None);
        }

        await AssertNoOpenVpnAsync(lab.RunId);
    }

    [Fact]
    public async Task AgentRestart_AdoptsItsTunnels_InsteadOfCuttingThem()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var (a, b) = await TwoLinkedHostsAsync(lab);
        var identityA = await OpenVpnIdentity.LoadOrCreateAsync(lab.PathFor("a-id"), "a", CancellationToken.None);
        var identityB = await OpenVpnIdentity.LoadOrCreateAsync(lab.PathFor("b-id"), "b", CancellationToken.None);
        await using var driverB = await OpenVpnDriver.CreateAsync(new HostShell(b.Namespace), identityB, lab.PathFor("b-state"), CancellationToken.None);
        var ifA = $"{lab.RunId}oab";
        var ifB = $"{lab.RunId}oba";
        var first = await OpenVpnDriver.CreateAsync(new HostShell(a.Namespace), identityA, lab.PathFor("a-state"), CancellationToken.None);
        OpenVpnDriver? second = null;
        try
        {
            await first.CreateAsync(Spec(ifA, identityB, new IPEndPoint(UnderlayB, 1195), 1194, "fe80::a"), CancellationToken.None);
            await driverB.CreateAsync(Spec(ifB, identityA, new IPEndPoint(UnderlayA, 1194), 1195, "fe80::b"), CancellationToken.None);
            Assert.True(await FirstPingAsync(lab, a, ifA, "fe80::b"), "the arrow never came up");
            await first.DisposeAsync();
            Assert.Equal(0, (await Command.RunAsync("ip", ["-n", a.Namespace, "link", "show", ifA], check: false)).ExitCode);

            second = await OpenVpnDriver.CreateAsync(new HostShell(a.Namespace), identityA, lab.PathFor("a-state"), CancellationToken.None);
            Assert.Equal([ifA], await second.AdoptAsync(lab.RunId + "o", CancellationToken.None));
            Assert.Empty(await second.AdoptAsync(lab.RunId + "o", CancellationToken.None));
            var ping = await PingAsync(lab, a, ifA, "fe80::b", 5);
            Assert.Contains(" 0% packet loss", ping.Output, StringComparison.Ordinal);

            // The adopted openvpn is not a child of this driver: it is stopped through its pid file.
            await second.RemoveAllAsync(CancellationToken.None);
            Assert.NotEqual(0, (await Command.RunAsync("ip", ["-n", a.Namespace, "link", "show", ifA], check: false)).ExitCode);
            var left = await Command.RunAsync("pgrep", ["-f", $"openvpn .*--dev {ifA}"], check: false);
            Assert.True(left.ExitCode != 0, "the adopted openvpn is still running: " + left.Output);
        }
        finally
        {
            await first.RemoveAllAsync(CancellationToken.None);
            if (second is not null)
            {
                await second.RemoveAllAsync(CancellationToken.None);
                await second.DisposeAsync();
            }

            await driverB.RemoveAllAsync(CancellationToken.None);
        }

        await AssertNoOpenVpnAsync(lab.RunId);
    }

    [Fact]
    public async Task CreateAsync_ListenPortTaken_FailsWithOpenVpnsOwnWords_AndLeavesNoInterface()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var a = await lab.AddHostAsync("a");
        var identity = await OpenVpnIdentity.LoadOrCreateAsync(lab.PathFor("a-id"), "a", CancellationToken.None);
        var peer = await OpenVpnIdentity.LoadOrCreateAsync(lab.PathFor("p-id"), "p", CancellationToken.None);
        await using var driver = await OpenVpnDriver.CreateAsync(new HostShell(a.Namespace), identity, lab.PathFor("a-state"), CancellationToken.None);
        var first = $"{lab.RunId}oa1";
        var second = $"{lab.RunId}oa2";
        try
        {
            await driver.CreateAsync(Spec(first, peer, null, 1194, "fe80::1"), CancellationToken.None);
            var error = await Assert.ThrowsAsync<HostCommandException>(() => driver.CreateAsync(Spec(second, peer, null, 1194, "fe80::2"), CancellationToken.None));
            lab.Log(error.Message);
            Assert.Contains("Address already in use", error.Message, StringComparison.Ordinal);
            Assert.NotEqual(0, (await Command.RunAsync("ip", ["-n", a.Namespace, "link", "show", second], check: false)).ExitCode);
            Assert.Equal([first], driver.Interfaces);
        }
        finally
        {
            await driver.RemoveAllAsync(CancellationToken.None);
        }

        await AssertNoOpenVpnAsync(lab.RunId);
    }

    [Fact]
    public async Task CreateAsync_OpenVpnRefusesToStart_SaysWhy_AndLeavesNoInterface()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var a = await lab.AddHostAsync("a");
        var identity = await OpenVpnIdentity.LoadOrCreateAsync(lab.PathFor("a-id"), "a", CancellationToken.None);
        var peer = await OpenVpnIdentity.LoadOrCreateAsync(lab.PathFor("p-id"), "p", CancellationToken.None);
        await using var driver = await OpenVpnDriver.CreateAsync(new HostShell(a.Namespace), identity, lab.PathFor("a-state"), CancellationToken.None);
        File.Delete(identity.CertificatePath);
        var name = $"{lab.RunId}oa1";

        var error = await Assert.ThrowsAsync<HostCommandException>(() => driver.CreateAsync(Spec(name, peer, null, 1194, "fe80::1"), CancellationToken.None));
        lab.Log(error.Message);
        Assert.Contains($"--cert fails with '{identity.CertificatePath}'", error.Message, StringComparison.Ordinal);
        Assert.Empty(driver.Interfaces);
        Assert.NotEqual(0, (await Command.RunAsync("ip", ["-n", a.Namespace, "link", "show", name], check: false)).ExitCode);
        await AssertNoOpenVpnAsync(lab.RunId);
    }

    private static TunnelSpec Spec(string name, OpenVpnIdentity peer, IPEndPoint? endpoint, int listenPort, string linkLocal) =>
        new(name, TunnelTechnology.OpenVpn, peer.Fingerprint, endpoint, listenPort, IPAddress.Parse(linkLocal));

    private static async Task<(LabHost A, LabHost B)> TwoLinkedHostsAsync(NetnsLab lab)
    {
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        var (va, vb) = await lab.LinkAsync(a, b);
        await lab.IpAsync(a, "address", "add", $"{UnderlayA}/64", "dev", va, "nodad");
        await lab.IpAsync(b, "address", "add", $"{UnderlayB}/64", "dev", vb, "nodad");
        return (a, b);
    }

    /// <summary>Pings until one is answered, within <see cref="HandshakeBound"/>.</summary>
    private static async Task<bool> FirstPingAsync(NetnsLab lab, LabHost from, string device, string to)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < HandshakeBound)
        {
            if ((await PingAsync(lab, from, device, to, 1, "0.25")).ExitCode == 0)
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }

    // -c, not -w: ping -w gives up at the first "unreachable".
    private static Task<CommandResult> PingAsync(NetnsLab lab, LabHost from, string device, string to, int count, string wait = "1") =>
        Command.RunAsync(
            "ip",
            ["netns", "exec", from.Namespace, "ping", "-6", "-n", "-q", "-c", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", "0.2", "-W", wait, $"{to}%{device}"],
            TimeSpan.FromSeconds(5 + count),
            check: false);

    private static async Task AssertNoOpenVpnAsync(string runId)
    {
        var leftover = await Command.RunAsync("pgrep", ["-af", $"openvpn .*{runId}"], check: false);
        Assert.True(leftover.ExitCode != 0, "an openvpn process of this run is still running: " + leftover.Output);
    }
}
