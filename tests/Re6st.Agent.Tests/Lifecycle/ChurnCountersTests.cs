using Re6st.Agent.Lifecycle;
using Re6st.Agent.Membership;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;

namespace Re6st.Agent.Tests.Lifecycle;

public sealed class ChurnCountersTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheDrawsDecisions_AreCounted_AsDestroyedOrSpared_AndThePeriodIsMeasured()
    {
        var churn = new ChurnCounters(T0);
        Assert.Null(churn.Figures().PeriodSeconds);

        churn.PeriodEnded(T0 + TimeSpan.FromSeconds(10));
        churn.Drawn(new ArrowDecision(ArrowAction.Keep, DecisionReason.NotDrawn));
        churn.Drawn(new ArrowDecision(ArrowAction.Destroy, DecisionReason.Random));
        churn.Drawn(new ArrowDecision(ArrowAction.StartDrain, DecisionReason.InUse));
        churn.Drawn(new ArrowDecision(ArrowAction.Keep, DecisionReason.MostUsedSpared));
        churn.PeriodEnded(T0 + TimeSpan.FromSeconds(20.5));
        churn.PeriodEnded(T0 + TimeSpan.FromSeconds(30.2));
        churn.Created(SelectionReason.Random);
        churn.Created(SelectionReason.SmallMesh);
        churn.Created(SelectionReason.Random);
        churn.Removed("random");
        churn.Removed("dead");
        churn.Removed("random");

        var figures = churn.Figures();
        Assert.Equal((3, 4, 2, 1), (figures.Periods, figures.Drawn, figures.Destroyed, figures.Spared));
        Assert.Equal(10.1, figures.PeriodSeconds);
        Assert.Equal(new Dictionary<string, int> { ["random"] = 2, ["small-mesh"] = 1 }, figures.Created);
        Assert.Equal(new Dictionary<string, int> { ["dead"] = 1, ["random"] = 2 }, figures.Removed);
    }

    [Fact]
    public void TheFigures_AndEachArrowsSinceAndReason_ReachTheMeshNodeStatus_AndBack()
    {
        var churn = new ChurnCounters(T0);
        churn.PeriodEnded(T0 + TimeSpan.FromSeconds(10));
        churn.Created(SelectionReason.Bootstrap);
        churn.Removed("closed-by-peer");
        var arrow = new PublishedArrow("id1", "b", "root", TunnelTechnology.WireGuard, 51820) { Since = T0 + TimeSpan.FromSeconds(3), Reason = "bootstrap" };
        var status = new PeerStatus("a", System.Net.IPAddress.Parse("fd5e:ff::a"), "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", [arrow]) { Churn = churn.Figures() };

        var written = MeshNodeStatusMapping.ToStatus(status, 1);

        Assert.Equal("2026-01-01T00:00:03.000Z", written.Arrows![0].Since);
        Assert.Equal("bootstrap", written.Arrows[0].Reason);
        Assert.Equal((1, 0, "2026-01-01T00:00:00.000Z"), (written.Churn!.Periods, written.Churn.Drawn, written.Churn.Since));
        Assert.Equal(1, written.Churn.Created!["bootstrap"]);
        Assert.Equal(1, written.Churn.Removed!["closed-by-peer"]);
        Assert.Equal(arrow, MeshNodeStatusMapping.ToPeerStatus("a", written)!.Arrows.Single());
    }
}
