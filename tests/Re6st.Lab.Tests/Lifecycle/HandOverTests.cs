using System.Collections.Immutable;
using System.Net;
using Re6st.Agent.Babel;
using Re6st.Agent.Lifecycle;
using Re6st.Agent.Membership;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;

namespace Re6st.Lab.Tests.Lifecycle;

/// <summary>The hand-over exception's pure part: who hands over, and what a peer stands in for, until when.</summary>
public sealed class HandOverTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly IpPrefix PrefixA = IpPrefix.Parse("fd5e:6a00:0:2::/64");
    private static readonly IpPrefix PrefixA4 = IpPrefix.Parse("10.42.0.2/32");

    [Fact]
    public void IsHandingOver_OnlyUntilTheDeadline_AndNeverForLongerThanMaxLengthFromNow()
    {
        Assert.False(HandOver.IsHandingOver(null, Now));
        Assert.False(HandOver.IsHandingOver(StatusOfA(until: null), Now));
        Assert.True(HandOver.IsHandingOver(StatusOfA(Now + TimeSpan.FromSeconds(30)), Now));
        Assert.False(HandOver.IsHandingOver(StatusOfA(Now - TimeSpan.FromSeconds(1)), Now));

        // A host cannot ask its peers to hold and stand in for it indefinitely.
        Assert.False(HandOver.IsHandingOver(StatusOfA(Now + HandOver.MaxLength + TimeSpan.FromSeconds(1)), Now));
    }

    [Fact]
    public void TheNextBabeld_StartsOnlyOnceThePeersForgotTheKilledOne()
    {
        var hello = TimeSpan.FromSeconds(1);
        Assert.Equal(TimeSpan.FromSeconds(20), HandOver.PeersForget(hello));

        // The next pod came back 4.5 s after the kill: its babeld waits the other 15.5 s.
        Assert.Equal(TimeSpan.FromSeconds(15.5), HandOver.WaitBeforeBabeld(Now - TimeSpan.FromSeconds(4.5), Now, hello));
        Assert.Equal(TimeSpan.Zero, HandOver.WaitBeforeBabeld(Now - TimeSpan.FromSeconds(20), Now, hello));
        Assert.Equal(TimeSpan.Zero, HandOver.WaitBeforeBabeld(Now - TimeSpan.FromSeconds(66), Now, hello));

        // After a crash nobody stands in: no wait. A kill time ahead of the clock is not believed.
        Assert.Equal(TimeSpan.Zero, HandOver.WaitBeforeBabeld(null, Now, hello));
        Assert.Equal(TimeSpan.Zero, HandOver.WaitBeforeBabeld(Now + TimeSpan.FromSeconds(5), Now, hello));

        // It scales with the mesh's hello interval.
        Assert.Equal(TimeSpan.FromSeconds(36), HandOver.WaitBeforeBabeld(Now - TimeSpan.FromSeconds(4), Now, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void AHostThatHandsOver_GetsItsOwnPrefixesAnnounced_OverTheFirstArrowItStillLists()
    {
        var arrows = new[] { Arrow("r6b002", "a", initiated: false, id: "x2"), Arrow("r6b001", "a", initiated: false, id: "x1"), Arrow("r6b000", "c", initiated: false, id: "x0") };
        var (standIns, memory) = HandOver.StandIns("b", [PeerA(Now + TimeSpan.FromSeconds(60), "x1", "x2")], arrows, BabelState.Empty, Empty, Now);
        Assert.Equal([new StandIn("a", PrefixA, "r6b001"), new StandIn("a", PrefixA4, "r6b001")], standIns);
        Assert.Equal(Now, memory["a"].Since);

        // An arrow the peer no longer lists (its end is gone) carries nothing to it; a condemned one neither.
        Assert.Empty(HandOver.StandIns("b", [PeerA(Now + TimeSpan.FromSeconds(60))], arrows, BabelState.Empty, Empty, Now).StandIns);
        arrows[1].Condemned = RemovalReason.Dead;
        Assert.Equal("r6b002", HandOver.StandIns("b", [PeerA(Now + TimeSpan.FromSeconds(60), "x1", "x2")], arrows, BabelState.Empty, Empty, Now).StandIns[0].Interface);
    }

    [Fact]
    public void AnArrowThisHostInitiated_CountsWhileThePeerListsItAsAccepted()
    {
        var peer = PeerA(Now + TimeSpan.FromSeconds(60)) with { Status = StatusOfA(Now + TimeSpan.FromSeconds(60)) with { Accepted = [new AcceptedArrow("b", "s0", 3)] } };
        var standIns = HandOver.StandIns("b", [peer], [Arrow("r6b000", "a", initiated: true, id: "y0")], BabelState.Empty, Empty, Now).StandIns;
        Assert.Equal(2, standIns.Count);
    }

    [Fact]
    public void AfterTheHandOver_TheStandInStays_UntilThePeersNextRunIsHeard_UnderANewRouterId()
    {
        var arrows = new[] { Arrow("r6b001", "a", initiated: false, id: "x1") };
        var old = Babel(Route(PrefixA, "old-id", "r6b001", 96), Route(PrefixA4, "old-id", "r6b001", 96));
        var (_, memory) = HandOver.StandIns("b", [PeerA(Now + TimeSpan.FromSeconds(60), "x1")], arrows, old, Empty, Now);
        Assert.Equal(["old-id"], memory["a"].RouterIdsBefore);

        // Back, but only the old babeld's routes are heard (or a stand-in of another host, over another arrow).
        var later = Now + TimeSpan.FromSeconds(20);
        var back = PeerA(until: null, "x1");
        var stale = Babel(Route(PrefixA, "old-id", "r6b001", 96), Route(PrefixA, "c-id", "r6b000", 1120), Route(PrefixA4, "old-id", "r6b001", 96));
        var (still, kept) = HandOver.StandIns("b", [back], arrows, stale, memory, later);
        Assert.Equal(2, still.Count);

        // Its new babeld is heard over the arrow for one prefix only: not yet.
        var half = Babel(Route(PrefixA, "new-id", "r6b001", 96), Route(PrefixA4, "old-id", "r6b001", 96));
        Assert.Equal(2, HandOver.StandIns("b", [back], arrows, half, kept, later).StandIns.Count);

        // Heard for every prefix, but for one a route of the previous run, through another host,
        // is still the better (a new babeld's link counts as poor for its first hellos): not yet,
        // since this host would route the peer through that host, and that host, once it stops
        // standing in, back through this one.
        var worse = Babel(Route(PrefixA, "new-id", "r6b001", 900), Route(PrefixA, "old-id", "r6b000", 600), Route(PrefixA4, "new-id", "r6b001", 96));
        Assert.Equal(2, HandOver.StandIns("b", [back], arrows, worse, kept, later).StandIns.Count);

        // The peer's own route is the best for every prefix, over the arrow or through another host: the stand-in goes.
        var relayed = Babel(Route(PrefixA, "new-id", "r6b001", 900), Route(PrefixA, "new-id", "r6b000", 300), Route(PrefixA, "c-id", "r6b000", 1120), Route(PrefixA4, "new-id", "r6b001", 96));
        Assert.Empty(HandOver.StandIns("b", [back], arrows, relayed, kept, later).StandIns);

        // For every prefix: the stand-in goes, and nothing is remembered.
        var fresh = Babel(Route(PrefixA, "new-id", "r6b001", 96), Route(PrefixA4, "new-id", "r6b001", 96));
        var (none, forgotten) = HandOver.StandIns("b", [back], arrows, fresh, kept, later);
        Assert.Empty(none);
        Assert.Empty(forgotten);
    }

    [Fact]
    public void AStandInNeverOutlastsMaxLength_EvenIfThePeerNeverComesBack()
    {
        var arrows = new[] { Arrow("r6b001", "a", initiated: false, id: "x1") };
        var (_, memory) = HandOver.StandIns("b", [PeerA(Now + TimeSpan.FromSeconds(60), "x1")], arrows, BabelState.Empty, Empty, Now);
        var gone = HandOver.StandIns("b", [PeerA(until: null, "x1")], arrows, BabelState.Empty, memory, Now + HandOver.MaxLength + TimeSpan.FromSeconds(1));
        Assert.Empty(gone.StandIns);
        Assert.Empty(gone.Memory);
    }

    private static readonly IReadOnlyDictionary<string, StandInMemory> Empty = new Dictionary<string, StandInMemory>();

    private static PeerStatus StatusOfA(DateTimeOffset? until, params string[] arrowIds) =>
        new("a", IPAddress.Parse("2001:db8::a"), "key-a", [.. arrowIds.Select(id => new PublishedArrow(id, "b", "s0", TunnelTechnology.WireGuard, 51000))]) { HandOverUntil = until };

    private static PeerView PeerA(DateTimeOffset? until, params string[] arrowIds) =>
        new(NodeInfo.Named("a"), ["s0"], StatusOfA(until, arrowIds)) { Prefixes = [PrefixA, PrefixA4] };

    private static ArrowRecord Arrow(string name, string peer, bool initiated, string id) =>
        new(id, new Slot(0, int.Parse(name[^1..], System.Globalization.CultureInfo.InvariantCulture), name, 51000), peer, "s0", TunnelTechnology.WireGuard, initiated, Now - TimeSpan.FromMinutes(5));

    private static BabelRoute Route(IpPrefix prefix, string routerId, string interfaceName, int metric) =>
        new($"{prefix}-{routerId}-{interfaceName}", prefix, IpPrefix.Parse("::/0"), Installed: false, routerId, metric, 0, IPAddress.Parse("fe80::1"), interfaceName);

    private static BabelState Babel(params BabelRoute[] routes) =>
        BabelState.Empty with { Connected = true, Routes = routes.ToImmutableDictionary(r => r.Id, StringComparer.Ordinal) };
}
