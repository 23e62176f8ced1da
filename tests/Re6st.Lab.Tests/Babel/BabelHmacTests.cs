using Re6st.Agent.Babel;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Babel;

public sealed class BabelHmacTests(ITestOutputHelper output)
{
    private static readonly BabelKey MeshKey = BabelKey.FromBytes("mesh", Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly BabelKey WrongKey = BabelKey.FromBytes("mesh", Enumerable.Range(2, 32).Select(i => (byte)i).ToArray());

    [Fact(Timeout = 60_000)]
    public async Task SpeakersWithoutTheKeyOrWithAWrongOne_GetNoAdjacency_AndNoneOfTheirRoutesIsInstalled()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        var x = await lab.AddHostAsync("x");
        var y = await lab.AddHostAsync("y");
        var (ab, ba) = await lab.LinkAsync(a, b);
        var (ax, xa) = await lab.LinkAsync(a, x);
        var (ay, ya) = await lab.LinkAsync(a, y);

        var babelA = LabBabeld.Start(lab, a, LabBabeld.ConfigFor(lab, a, [new(ab), new(ax), new(ay)], MeshKey));
        var babelB = LabBabeld.Start(lab, b, LabBabeld.ConfigFor(lab, b, [new(ba)], MeshKey));
        var babelX = LabBabeld.Start(lab, x, LabBabeld.ConfigFor(lab, x, [new(xa)]));
        var babelY = LabBabeld.Start(lab, y, LabBabeld.ConfigFor(lab, y, [new(ya)], WrongKey));

        // Control: the keyed peer is accepted, both ways.
        await babelA.WaitForAsync(s => s.InstalledRouteTo(b.Ipv6Prefix) is not null && s.InstalledRouteTo(b.Ipv4Prefix) is not null);
        await babelB.WaitForAsync(s => s.InstalledRouteTo(a.Ipv6Prefix) is not null);

        // X and Y started with B; give them several more hello intervals to fail to do the same.
        await Task.Delay(TimeSpan.FromSeconds(4));
        var stateA = babelA.State;
        Assert.True(stateA.Interfaces[ax].Up && stateA.Interfaces[ay].Up, stateA.ToString());
        Assert.Empty(stateA.NeighboursOn(ax));
        Assert.Empty(stateA.NeighboursOn(ay));
        Assert.DoesNotContain(stateA.Routes.Values, r => r.Prefix == x.Ipv6Prefix || r.Prefix == y.Ipv6Prefix || r.Prefix == x.Ipv4Prefix || r.Prefix == y.Ipv4Prefix);
        Assert.Equal(0, stateA.InstalledRoutesVia(ax) + stateA.InstalledRoutesVia(ay));

        // Nor does anything usable flow the other way. X (no key) does not check signatures, so it
        // hears A, but A never acknowledges it: X's cost to A stays infinite and babeld installs
        // A's routes there as "unreachable" only. Y (wrong key) rejects A's packets outright.
        foreach (var (outsider, host) in new[] { (babelX, x), (babelY, y) })
        {
            var state = outsider.State;
            Assert.True(state.Connected, state.ToString());
            Assert.Equal(0, state.InstalledRouteCount);
            Assert.All(state.Neighbours.Values, n => Assert.Equal(BabelNeighbour.Infinity, n.Cost));
            Assert.All(state.Routes.Values, r => Assert.Equal(BabelRoute.Infinity, r.Metric));
            var routes = await lab.IpAsync(host, "-6", "route", "show", "proto", "babel");
            Assert.DoesNotContain(" via ", routes.Output, StringComparison.Ordinal);
        }

        Assert.Empty(babelY.State.Neighbours);
        Assert.Empty(babelY.State.Routes);

        var kernel = await lab.IpAsync(a, "route", "show", "proto", "babel");
        Assert.DoesNotContain(x.Ipv4Prefix.ToString(), kernel.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(y.Ipv4Prefix.ToString(), kernel.Output, StringComparison.Ordinal);
    }
}
