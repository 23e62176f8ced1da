using System.Net;
using Re6st.Agent.Membership;
using Re6st.Core.Policy;

namespace Re6st.Agent.Tests;

public sealed class MeshNodeStatusMappingTests
{
    [Fact]
    public void AHandOverAndTheStandIns_SurviveTheTripThroughAMeshNodeStatus()
    {
        var until = new DateTimeOffset(2026, 12, 3, 12, 2, 0, 250, TimeSpan.Zero);
        var status = new PeerStatus("a", IPAddress.Parse("2001:db8::a"), "key-a", [new PublishedArrow("x1", "b", "s0", TunnelTechnology.WireGuard, 51000)])
        {
            HandOverUntil = until,
            StandingIn = ["d", "c"],
        };
        var written = MeshNodeStatusMapping.ToStatus(status, observedGeneration: 3);
        Assert.Equal("2026-12-03T12:02:00.250Z", written.HandOverUntil);
        Assert.Equal(["c", "d"], written.StandingIn);

        var read = MeshNodeStatusMapping.ToPeerStatus("a", written)!;
        Assert.Equal(until, read.HandOverUntil);
        Assert.Equal(["c", "d"], read.StandingIn);

        // A host that neither hands over nor stands in writes neither field.
        var plain = MeshNodeStatusMapping.ToStatus(status with { HandOverUntil = null, StandingIn = [] }, observedGeneration: 3);
        Assert.Null(plain.HandOverUntil);
        Assert.Null(plain.StandingIn);
        Assert.Null(MeshNodeStatusMapping.ToPeerStatus("a", plain)!.HandOverUntil);
    }

    [Fact]
    public void TwoAcceptedArrowsFromOnePeer_AreToldApartByTheirIds()
    {
        // Make before break: a drained arrow and its replacement join the same two hosts.
        var status = new PeerStatus("a", IPAddress.Parse("2001:db8::a"), "key-a", [])
        {
            Accepted = [new AcceptedArrow("b", "s0", 3, "old"), new AcceptedArrow("b", "s0", 0, "new")],
        };
        var read = MeshNodeStatusMapping.ToPeerStatus("a", MeshNodeStatusMapping.ToStatus(status, observedGeneration: 1))!;
        Assert.Equal(3, read.Accepted.Single(x => x.Is("old", "b", "s0")).Routes);
        Assert.Equal(0, read.Accepted.Single(x => x.Is("new", "b", "s0")).Routes);
        Assert.DoesNotContain(read.Accepted, x => x.Is("other", "b", "s0"));

        // A status written without ids (an agent of an older version) is read by initiator and sub-mesh.
        var old = new AcceptedArrow("b", "s0", 3);
        Assert.True(old.Is("any", "b", "s0"));
        Assert.False(old.Is("any", "c", "s0"));
    }

    [Fact]
    public void TheStatusPatch_RemovesWhatTheAgentNoLongerSays_AndLeavesOtherFieldsAlone()
    {
        var patch = MeshNodeMembershipSource.StatusPatch(
            desired: """{"publicKey":"k","arrowCount":2}""",
            watched: """{"publicKey":"old","arrowCount":3,"handOverUntil":"2026-12-03T12:02:00.250Z","standingIn":["c"]}""");
        Assert.Equal("""{"publicKey":"k","arrowCount":2,"handOverUntil":null,"standingIn":null}""", patch.ToJsonString());

        // Before the watch shows a status, the patch says only what the agent writes (conditions, not in it, stay).
        Assert.Equal("""{"publicKey":"k"}""", MeshNodeMembershipSource.StatusPatch("""{"publicKey":"k"}""", null).ToJsonString());
    }
}
