using System.Net;
using Re6st.Agent.Babel;
using Re6st.Core.Addressing;

namespace Re6st.Agent.Tests.Babel;

/// <summary>Lines captured from babeld 1.12.1 in network namespaces on this machine.</summary>
public sealed class BabelLineParserTests
{
    [Theory]
    [InlineData("BABEL 1.0", "BABEL", "1.0")]
    [InlineData("version babeld-1.12.1", "version", "babeld-1.12.1")]
    [InlineData("host vm", "host", "vm")]
    [InlineData("my-id c0:6e:08:41:fa:6d:c0:8e", "my-id", "c0:6e:08:41:fa:6d:c0:8e")]
    public void Parse_BannerLine_IsInfo(string line, string key, string value) =>
        Assert.Equal(new BabelInfoEvent(key, value), BabelLineParser.Parse(line));

    [Theory]
    [InlineData("ok", BabelReply.Ok)]
    [InlineData("no", BabelReply.No)]
    [InlineData("bad", BabelReply.Bad)]
    public void Parse_Reply_IsReply(string line, BabelReply reply) =>
        Assert.Equal(new BabelReplyEvent(reply), BabelLineParser.Parse(line));

    [Fact]
    public void Parse_InterfaceUp_HasItsLinkLocalAddress()
    {
        var e = BabelLineParser.Parse("add interface ab up true ipv6 fe80::7814:c7ff:fe08:63c3");
        Assert.Equal(new BabelEntryEvent(BabelAction.Add, new BabelInterface("ab", true, IPAddress.Parse("fe80::7814:c7ff:fe08:63c3"), null)), e);
    }

    [Fact]
    public void Parse_InterfaceDeclaredButAbsent_IsDown()
    {
        var e = BabelLineParser.Parse("add interface later up false");
        Assert.Equal(new BabelEntryEvent(BabelAction.Add, new BabelInterface("later", false, null, null)), e);
    }

    [Fact]
    public void Parse_InterfaceWithIpv4_HasBothAddresses()
    {
        var e = (BabelEntryEvent)BabelLineParser.Parse("change interface eth0 up true ipv6 fe80::1 ipv4 192.0.2.1");
        Assert.Equal(BabelAction.Change, e.Action);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), ((BabelInterface)e.Entry).Ipv4);
    }

    [Fact]
    public void Parse_Neighbour_HasCostsReachAndRtt()
    {
        var e = (BabelEntryEvent)BabelLineParser.Parse(
            "add neighbour 55b6888df720 address fe80::1c50:50ff:fe3c:1e39 if ab reach ffc0 ureach 0000 rxcost 96 txcost 97 rtt 28.683 rttcost 16 cost 113");
        var expected = new BabelNeighbour("55b6888df720", IPAddress.Parse("fe80::1c50:50ff:fe3c:1e39"), "ab", 0xffc0, 0, 96, 97, 28.683, 16, 113);
        Assert.Equal(new BabelEntryEvent(BabelAction.Add, expected), e);
    }

    [Fact]
    public void Parse_NeighbourBeforeAnyRttSample_HasNoRtt()
    {
        var e = (BabelEntryEvent)BabelLineParser.Parse(
            "add neighbour 55fead164440 address fe80::dca8:cfff:fe84:ef21 if ab reach 8000 ureach 0000 rxcost 383 txcost 191 cost 383");
        var n = (BabelNeighbour)e.Entry;
        Assert.Null(n.RttMs);
        Assert.Null(n.RttCost);
        Assert.Equal(383, n.Cost);
    }

    [Fact]
    public void Parse_InstalledIpv6Route_HasPrefixNextHopAndInterface()
    {
        var e = BabelLineParser.Parse(
            "add route 55b6888e09d0 prefix fd00:c::/64 from ::/0 installed yes id 98:30:79:3c:7a:c4:0e:43 metric 210 refmetric 97 via fe80::1c50:50ff:fe3c:1e39 if ab");
        var expected = new BabelRoute(
            "55b6888e09d0", IpPrefix.Parse("fd00:c::/64"), IpPrefix.Parse("::/0"), true, "98:30:79:3c:7a:c4:0e:43",
            210, 97, IPAddress.Parse("fe80::1c50:50ff:fe3c:1e39"), "ab");
        Assert.Equal(new BabelEntryEvent(BabelAction.Add, expected), e);
    }

    [Fact]
    public void Parse_Ipv4RouteViaIpv6NextHop_IsARoute()
    {
        var e = (BabelEntryEvent)BabelLineParser.Parse(
            "change route 55b6888e0a70 prefix 10.42.3.0/24 from 0.0.0.0/0 installed yes id 98:30:79:3c:7a:c4:0e:43 metric 197 refmetric 96 via fe80::1c50:50ff:fe3c:1e39 if ab");
        var r = (BabelRoute)e.Entry;
        Assert.Equal(BabelAction.Change, e.Action);
        Assert.Equal(IpPrefix.Parse("10.42.3.0/24"), r.Prefix);
        Assert.Equal(IpPrefix.Parse("0.0.0.0/0"), r.From);
        Assert.Equal(IPAddress.Parse("fe80::1c50:50ff:fe3c:1e39"), r.Via);
    }

    [Fact]
    public void Parse_FlushedRoute_KeepsItsFields()
    {
        var e = (BabelEntryEvent)BabelLineParser.Parse(
            "flush route 55fead162fc0 prefix fd00:b::/64 from ::/0 installed no id 10:86:fb:a8:04:4d:fa:3a metric 109 refmetric 0 via fe80::dca8:cfff:fe84:ef21 if ab");
        Assert.Equal(BabelAction.Flush, e.Action);
        Assert.False(((BabelRoute)e.Entry).Installed);
    }

    [Fact]
    public void Parse_Xroute_IsAnOriginatedPrefix()
    {
        var e = BabelLineParser.Parse("add xroute 10.42.1.0/24-0.0.0.0/0 prefix 10.42.1.0/24 from 0.0.0.0/0 metric 0");
        Assert.Equal(
            new BabelEntryEvent(BabelAction.Add, new BabelXroute("10.42.1.0/24-0.0.0.0/0", IpPrefix.Parse("10.42.1.0/24"), IpPrefix.Parse("0.0.0.0/0"), 0)),
            e);
    }

    [Theory]
    [InlineData("", "empty line")]
    [InlineData("hello world again", "unknown line kind 'hello'")]
    [InlineData("add route", "no object id")]
    [InlineData("add route 1 prefix", "a field has no value")]
    [InlineData("add gizmo 1 a b", "unknown object 'gizmo'")]
    [InlineData("add route 1 prefix fd00::/64 from ::/0 installed maybe id x metric 1 refmetric 0 via fe80::1 if a", "'installed' is 'maybe'")]
    [InlineData("add route 1 prefix fd00::/64 from ::/0 installed yes id x metric 1 refmetric 0 if a", "without 'via'")]
    [InlineData("add neighbour 1 address fe80::1 if a reach zz rxcost 1 txcost 1 cost 1", "'reach' is 'zz'")]
    [InlineData("add interface a up sideways", "'up' is 'sideways'")]
    [InlineData("add xroute x prefix fd00::1/64 from ::/0 metric 0", "'prefix' is 'fd00::1/64'")]
    public void Parse_LineItCannotRead_IsUnknownWithTheReason(string line, string reason)
    {
        var e = Assert.IsType<BabelUnknownEvent>(BabelLineParser.Parse(line));
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownExtraField_IsIgnored()
    {
        var e = BabelLineParser.Parse("add xroute x prefix fd00::/64 from ::/0 metric 0 colour blue");
        Assert.IsType<BabelEntryEvent>(e);
    }
}
