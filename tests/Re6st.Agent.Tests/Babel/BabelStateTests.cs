using Re6st.Agent.Babel;
using Re6st.Core.Addressing;

namespace Re6st.Agent.Tests.Babel;

public sealed class BabelStateTests
{
    private static BabelState Feed(params string[] lines) =>
        lines.Select(BabelLineParser.Parse).Cast<BabelEntryEvent>().Aggregate(BabelState.Empty, (s, e) => s.Apply(e));

    private static string Route(string action, string id, string prefix, bool installed, string ifname) =>
        $"{action} route {id} prefix {prefix} from ::/0 installed {(installed ? "yes" : "no")} id 98:30:79:3c:7a:c4:0e:43 metric 200 refmetric 96 via fe80::1 if {ifname}";

    [Fact]
    public void InstalledRoutesVia_CountsOnlyInstalledRoutesThroughThatInterface()
    {
        var state = Feed(
            Route("add", "r1", "fd00:b::/64", true, "ab"),
            Route("add", "r2", "fd00:c::/64", true, "ab"),
            Route("add", "r3", "fd00:c::/64", false, "ac"),
            Route("add", "r4", "fd00:d::/64", true, "ac"));

        Assert.Equal(2, state.InstalledRoutesVia("ab"));
        Assert.Equal(1, state.InstalledRoutesVia("ac"));
        Assert.Equal(0, state.InstalledRoutesVia("zz"));
        Assert.Equal(3, state.InstalledRouteCount);
        Assert.Equal(new Dictionary<string, int> { ["ab"] = 2, ["ac"] = 1 }, state.InstalledRoutesByInterface());
        Assert.Equal("r4", state.InstalledRouteTo(IpPrefix.Parse("fd00:d::/64"))?.Id);
    }

    [Fact]
    public void InstalledRouteWithInfiniteMetric_IsAnUnreachablePlaceholder_AndCarriesNothing()
    {
        // Captured on a babeld that hears a neighbour which rejects its HMAC.
        var state = Feed(
            "add route 5622a1f35250 prefix fd5e:6a00:0:2::/64 from ::/0 installed yes id d8:ea:3f:4f:6e:fd:aa:92 metric 65535 refmetric 102 via fe80::c0e4:f6ff:fe2b:2418 if xa",
            Route("add", "r2", "fd00:c::/64", true, "xa"));

        Assert.False(state.Routes["5622a1f35250"].Carries);
        Assert.Equal(1, state.InstalledRoutesVia("xa"));
        Assert.Equal(1, state.InstalledRouteCount);
        Assert.Null(state.InstalledRouteTo(IpPrefix.Parse("fd5e:6a00:0:2::/64")));
    }

    [Fact]
    public void Change_MovesTheInstalledRouteToAnotherInterface()
    {
        var state = Feed(
            Route("add", "r1", "fd00:c::/64", true, "ab"),
            Route("add", "r2", "fd00:c::/64", false, "ac"),
            Route("change", "r1", "fd00:c::/64", false, "ab"),
            Route("change", "r2", "fd00:c::/64", true, "ac"));

        Assert.Equal(0, state.InstalledRoutesVia("ab"));
        Assert.Equal(1, state.InstalledRoutesVia("ac"));
    }

    [Fact]
    public void Flush_RemovesTheEntry_AndChangeOfAFlushedRouteBringsItBack()
    {
        // babeld 1.12 reports a retracted route that comes back as "change", without a new "add".
        var flushed = Feed(
            Route("add", "r1", "fd00:b::/64", true, "ab"),
            Route("flush", "r1", "fd00:b::/64", false, "ab"));
        Assert.Empty(flushed.Routes);

        var back = flushed.Apply((BabelEntryEvent)BabelLineParser.Parse(Route("change", "r1", "fd00:b::/64", true, "ab")));
        Assert.Equal(1, back.InstalledRoutesVia("ab"));
    }

    [Fact]
    public void Apply_InterfacesNeighboursAndXroutes_AreKeptByKind()
    {
        var state = Feed(
            "add interface ab up true ipv6 fe80::1",
            "add interface later up false",
            "add neighbour n1 address fe80::2 if ab reach ffff ureach 0000 rxcost 96 txcost 96 cost 96",
            "add xroute fd00:a::/64-::/0 prefix fd00:a::/64 from ::/0 metric 0",
            "change interface later up true ipv6 fe80::3",
            "flush neighbour n1 address fe80::2 if ab reach 0000 ureach 0000 rxcost 65535 txcost 65535 cost 65535");

        Assert.True(state.Interfaces["later"].Up);
        Assert.Empty(state.Neighbours);
        Assert.Equal(IpPrefix.Parse("fd00:a::/64"), Assert.Single(state.Xroutes).Value.Prefix);
        Assert.Empty(state.NeighboursOn("ab"));
    }

    [Fact]
    public void Apply_DoesNotChangeTheSnapshotItStartedFrom()
    {
        var before = Feed(Route("add", "r1", "fd00:b::/64", true, "ab"));
        var after = before.Apply((BabelEntryEvent)BabelLineParser.Parse(Route("flush", "r1", "fd00:b::/64", true, "ab")));
        Assert.Single(before.Routes);
        Assert.Empty(after.Routes);
    }
}
