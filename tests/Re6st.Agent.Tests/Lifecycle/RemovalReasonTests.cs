using Re6st.Agent.Lifecycle;
using Re6st.Core.Arrows;

namespace Re6st.Agent.Tests.Lifecycle;

public sealed class RemovalReasonTests
{
    [Fact]
    public void EveryReason_HasItsOwnMetricName_InKebabCase()
    {
        var names = Enum.GetValues<RemovalReason>().Select(r => r.Name()).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(names, n => Assert.Matches("^[a-z]+(-[a-z]+)*$", n));
    }

    [Fact]
    public void OnlyADeadArrow_ACut_AndOneItsPeerClosed_GoWithoutAGoodbye() =>
        Assert.Equal(
            [RemovalReason.Dead, RemovalReason.ClosedByPeer, RemovalReason.Cut],
            Enum.GetValues<RemovalReason>().Where(r => !r.SaysGoodbye()).Order());

    [Theory]
    [InlineData(DecisionReason.Drained, null, RemovalReason.Drained)]
    [InlineData(DecisionReason.Drained, RemovalReason.Random, RemovalReason.Random)]
    [InlineData(DecisionReason.Drained, RemovalReason.Technology, RemovalReason.Technology)]
    [InlineData(DecisionReason.ForcedAfterMaxDrain, null, RemovalReason.ForcedAfterMaxDrain)]
    [InlineData(DecisionReason.ForcedAfterMaxDrain, RemovalReason.Technology, RemovalReason.ForcedAfterMaxDrain)]
    public void AConcludedDrain_CountsUnderWhatItWasFor_OrItsBound(DecisionReason decision, RemovalReason? drainedFor, RemovalReason expected) =>
        Assert.Equal(expected, RemovalReasons.AfterDrain(decision, drainedFor));
}
