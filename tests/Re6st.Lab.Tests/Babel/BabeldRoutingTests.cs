using Re6st.Agent.Babel;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Babel;

/// <summary>Real babeld in network namespaces, configured by the writer and observed through the control socket.</summary>
public sealed class BabeldRoutingTests(ITestOutputHelper output)
{
    [Fact(Timeout = 60_000)]
    public async Task ThreeHostsInALine_FarPrefixIsInstalledViaTheMiddleHost_AndPingsCrossIt()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        var c = await lab.AddHostAsync("c");
        var (ab, ba) = await lab.LinkAsync(a, b);
        var (bc, cb) = await lab.LinkAsync(b, c);

        var babelA = LabBabeld.Start(lab, a, LabBabeld.ConfigFor(lab, a, [new(ab)]));
        var babelB = LabBabeld.Start(lab, b, LabBabeld.ConfigFor(lab, b, [new(ba), new(bc)]));
        var babelC = LabBabeld.Start(lab, c, LabBabeld.ConfigFor(lab, c, [new(cb)]));

        var state = await babelA.WaitForAsync(s => s.InstalledRouteTo(c.Ipv6Prefix) is not null && s.InstalledRouteTo(c.Ipv4Prefix) is not null);

        // Both of C's prefixes reach A through B: the next hop is B's link-local address on the A-B link.
        var bAddress = babelB.State.Interfaces[ba].Ipv6;
        foreach (var prefix in new[] { c.Ipv6Prefix, c.Ipv4Prefix })
        {
            var route = state.InstalledRouteTo(prefix)!;
            Assert.Equal(ab, route.Interface);
            Assert.Equal(bAddress, route.Via);
        }

        // Each host originates its two prefixes and nothing else (not its /128 and /32 on lo, not ::1).
        Assert.Equal([a.Ipv4Prefix, a.Ipv6Prefix], state.Xroutes.Values.Select(x => x.Prefix).Order());
        var all = await babelA.WaitForAsync(s => s.InstalledRouteCount == 4);
        Assert.Equal(4, all.InstalledRoutesVia(ab));
        Assert.Equal([b.Ipv4Prefix, c.Ipv4Prefix, b.Ipv6Prefix, c.Ipv6Prefix], all.Routes.Values.Where(r => r.Installed).Select(r => r.Prefix).Order());

        // The middle host carries A's and C's routes on their own links: the "in use" count per arrow.
        var middle = await babelB.WaitForAsync(s => s.InstalledRoutesVia(ba) == 2 && s.InstalledRoutesVia(bc) == 2);
        Assert.Equal(4, middle.InstalledRouteCount);
        Assert.Single(middle.NeighboursOn(ba));
        Assert.Single(middle.NeighboursOn(bc));

        var kernel = await lab.IpAsync(a, "-6", "route", "show", "proto", "babel");
        Assert.Contains($"{c.Ipv6Prefix} via {bAddress} dev {ab}", kernel.Output, StringComparison.Ordinal);

        // Replies need the way back: C may learn A's prefixes a moment after A learned C's.
        await babelC.WaitForAsync(s => s.InstalledRouteTo(a.Ipv6Prefix) is not null && s.InstalledRouteTo(a.Ipv4Prefix) is not null);
        foreach (var ipv4 in new[] { false, true })
        {
            var ping = await lab.PingAsync(a, c, ipv4);
            Assert.True(ping.Succeeded && ping.Output.Contains(" 5 received", StringComparison.Ordinal), ping.ToString());
        }

        Assert.Equal(0, babelA.Control.UnknownLines + babelB.Control.UnknownLines + babelC.Control.UnknownLines);
    }

    [Fact(Timeout = 60_000)]
    public async Task InterfaceDeclaredBeforeItExists_IsReportedDown_ThenComesUpAndPeersWhenCreated()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        var ab = lab.InterfaceName(a, b);
        var ba = lab.InterfaceName(b, a);

        // The fixed arrow pool: babeld starts with names that have no tunnel yet.
        var babelA = LabBabeld.Start(lab, a, LabBabeld.ConfigFor(lab, a, [new(ab), new("r6pool1")]));
        var babelB = LabBabeld.Start(lab, b, LabBabeld.ConfigFor(lab, b, [new(ba)]));
        var before = await babelA.WaitForAsync(s => s.Interfaces.ContainsKey(ab) && s.Interfaces.ContainsKey("r6pool1"));
        Assert.False(before.Interfaces[ab].Up);
        Assert.False(before.Interfaces["r6pool1"].Up);

        await lab.LinkAsync(a, b);
        var after = await babelA.WaitForAsync(s => s.Interfaces[ab].Up && s.NeighboursOn(ab).Any() && s.InstalledRouteTo(b.Ipv6Prefix) is not null);
        Assert.NotNull(after.Interfaces[ab].Ipv6);
        Assert.Equal(ab, after.InstalledRouteTo(b.Ipv6Prefix)!.Interface);
        await babelB.WaitForAsync(s => s.InstalledRouteTo(a.Ipv6Prefix) is not null);
    }

    [Fact(Timeout = 60_000)]
    public async Task ControlRequests_AreAnsweredInOrderDuringTheMonitorStream_AndFlushInterfaceDropsItsRoutesAtOnce()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        var (ab, ba) = await lab.LinkAsync(a, b);
        var babelA = LabBabeld.Start(lab, a, LabBabeld.ConfigFor(lab, a, [new(ab)]));
        LabBabeld.Start(lab, b, LabBabeld.ConfigFor(lab, b, [new(ba)]));
        await babelA.WaitForAsync(s => s.InstalledRoutesVia(ab) == 2);

        var replies = await Task.WhenAll(
            babelA.Control.SendAsync("no-such-statement"),
            babelA.Control.SendAsync($"interface {ab} rxcost 300"),
            babelA.Control.SendAsync("bogus 1 2 3"));
        Assert.Equal([BabelReply.Bad, BabelReply.Ok, BabelReply.Bad], replies);

        // CAVEAT shown: a live interface's parameters do not change through the socket ("attempting
        // to add existing interface, new configuration ignored" on stderr), yet the answer is ok.
        Assert.Equal(BabelReply.Ok, await babelA.Control.SendAsync($"flush interface {ab}"));

        // The interface and every route through it go at once (kernel included); babeld keeps the
        // neighbour, at infinite cost.
        var flushed = await babelA.WaitForAsync(s => !s.Interfaces.ContainsKey(ab) && s.InstalledRoutesVia(ab) == 0, seconds: 3);
        Assert.Equal(0, flushed.InstalledRouteCount);
        Assert.Equal(string.Empty, (await lab.IpAsync(a, "route", "show", "proto", "babel")).Output.Trim());
        await babelA.WaitForAsync(s => s.NeighboursOn(ab).All(n => n.Cost == BabelNeighbour.Infinity), seconds: 5);

        // What the monitor stream built equals a fresh dump on a second connection.
        await using var second = new BabelControlClient(babelA.Config.ControlSocketPath);
        second.Start();
        var fresh = await second.WaitForAsync(s => s.Connected, TimeSpan.FromSeconds(5));
        var streamed = babelA.State;
        Assert.Equal(fresh.Interfaces.Keys.Order(), streamed.Interfaces.Keys.Order());
        Assert.Equal(fresh.Neighbours.Keys.Order(), streamed.Neighbours.Keys.Order());
        Assert.Equal(fresh.Routes.Keys.Order(), streamed.Routes.Keys.Order());
        Assert.Equal(fresh.Xroutes.Keys.Order(), streamed.Xroutes.Keys.Order());
        Assert.Equal(streamed.RouterId, fresh.RouterId);
    }
}
