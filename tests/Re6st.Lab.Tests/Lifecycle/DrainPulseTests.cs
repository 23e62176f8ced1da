using Re6st.Agent.Lifecycle;

namespace Re6st.Lab.Tests.Lifecycle;

/// <summary>The rhythm of a drain's dropped Babel, at the lab's figures: hello 1 s, tick 1 s, settle 4 s.</summary>
public sealed class DrainPulseTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly DrainPulse _pulse = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

    private static DateTimeOffset At(double seconds) => T0 + TimeSpan.FromSeconds(seconds);

    [Theory]
    [InlineData(0, true, DrainStep.Hold)]
    [InlineData(5.9, true, DrainStep.Hold)]
    [InlineData(6, true, DrainStep.Breathe)]   // routes still there after 6 hellos: Babel passes before babeld forgets the neighbour
    [InlineData(6, false, DrainStep.Hold)]     // nothing uses it: the drop goes on until the drain concludes
    [InlineData(8.9, false, DrainStep.Hold)]
    [InlineData(9, false, DrainStep.Breathe)]  // dropped so long (a starved agent) that "unused" may mean "retracted"
    public void WhileDropping_BreathesOnlyWhenRoutesStayOrTheDropRanTooLong(double seconds, bool inUse, DrainStep expected) =>
        Assert.Equal(expected, _pulse.Next(breathing: false, T0, At(seconds), inUse));

    [Theory]
    [InlineData(1.9, DrainStep.Hold)]
    [InlineData(2, DrainStep.Resume)]
    public void ABreath_LastsTwoHellos(double seconds, DrainStep expected)
    {
        Assert.Equal(expected, _pulse.Next(breathing: true, T0, At(seconds), inUse: true));
        Assert.Equal(expected, _pulse.Next(breathing: true, T0, At(seconds), inUse: false));
    }

    [Theory]
    [InlineData(3.9, false)] // the far end's status may not show the drop yet
    [InlineData(4, true)]
    [InlineData(8.9, true)]
    [InlineData(9, false)]   // babeld may have retracted routes rather than moved them
    public void NoRouteLeft_CountsAsDrained_OnlyBetweenSettleAndForgetting(double seconds, bool expected)
    {
        Assert.Equal(expected, _pulse.MayConclude(breathing: false, T0, At(seconds)));
        Assert.False(_pulse.MayConclude(breathing: true, T0, At(seconds)), "nothing is concluded while Babel passes");
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(0, false)]
    [InlineData(30, true)]
    [InlineData(30, false)]
    public void AHeldArrow_LetsBabelThrough_UntilTheHoldEnds(double seconds, bool inUse)
    {
        // Dropped when the hold begins: Babel passes at once, whatever the drop's age.
        Assert.Equal(DrainStep.Breathe, _pulse.Next(breathing: false, T0, At(seconds), inUse, held: true));

        // Passing: it keeps passing, past a breath's length, for as long as the hold lasts.
        Assert.Equal(DrainStep.Hold, _pulse.Next(breathing: true, T0, At(seconds), inUse, held: true));
    }

    [Fact]
    public void ATickSlowerThanBabeldsMemory_StillLeavesOneTickToConclude()
    {
        // hello 1 s, tick 5 s: settle is 12 s, past the 9 hellos babeld remembers a silent neighbour.
        var slow = new DrainPulse(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromSeconds(12), slow.Settle);
        Assert.Equal(TimeSpan.FromSeconds(17), slow.ForgetAfter);
        Assert.True(slow.MayConclude(breathing: false, T0, At(12)));
    }

    [Fact]
    public void AnArrowWhoseRoutesNeverLeave_CyclesAndIsNeverDroppedPastTheWindow()
    {
        // 60 ticks of a drain whose route has no other way: Babel is never dropped 7 s in a row,
        // so babeld (which forgets after about 10 missed hellos) keeps the route on the arrow.
        var (breathing, since, longest, breaths) = (false, T0, TimeSpan.Zero, 0);
        for (var s = 1; s <= 60; s++)
        {
            var now = At(s);
            if (!breathing)
            {
                longest = now - since > longest ? now - since : longest;
            }

            switch (_pulse.Next(breathing, since, now, inUse: true))
            {
                case DrainStep.Breathe:
                    (breathing, since, breaths) = (true, now, breaths + 1);
                    break;
                case DrainStep.Resume:
                    (breathing, since) = (false, now);
                    break;
            }
        }

        Assert.Equal(TimeSpan.FromSeconds(6), longest);
        Assert.Equal(7, breaths); // one every 8 s
    }
}
