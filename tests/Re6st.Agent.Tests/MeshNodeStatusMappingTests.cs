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
        var status = new PeerStatus("a", IPAddress.Parse("2001:db8::a"), "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", [new PublishedArrow("x1", "b", "s0", TunnelTechnology.WireGuard, 51000)])
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
