using Re6st.Agent.Lifecycle;
using Re6st.Core.Randomness;

namespace Re6st.Agent.Tests.Lifecycle;

public sealed class PeriodClockTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan FiveMinutes = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan TenSeconds = TimeSpan.FromSeconds(10);

    [Fact]
    public void Periods_EndOnePeriodApart_FromTheStart()
    {
        var clock = new PeriodClock(new Xoshiro256StarStar(1));
        clock.Start(T0, TenSeconds);
        var ends = Enumerable.Range(1, 35).Select(s => T0 + TimeSpan.FromSeconds(s)).Where(t => clock.Tick(t, TenSeconds)).ToList();
        Assert.Equal([T0 + TimeSpan.FromSeconds(10), T0 + TimeSpan.FromSeconds(20), T0 + TimeSpan.FromSeconds(30)], ends);
    }

    [Fact]
    public void ALateTick_StartsTheNextPeriodFromItself_SoABusyHostDestroysLessOften()
    {
        var clock = new PeriodClock(new Xoshiro256StarStar(1));
        clock.Start(T0, TenSeconds);
        Assert.True(clock.Tick(T0 + TimeSpan.FromSeconds(10.7), TenSeconds)); // seen 0.7 s late
        Assert.Equal(T0 + TimeSpan.FromSeconds(20.7), clock.End);
        Assert.True(clock.Tick(T0 + TimeSpan.FromSeconds(45), TenSeconds)); // stalled past two ends: one period, from now
        Assert.Equal(T0 + TimeSpan.FromSeconds(55), clock.End);
    }

    [Fact]
    public void AShorterPeriod_EndsWithinOneNewPeriod_AtARandomPhasePerHost()
    {
        // 100 hosts running a 5 min period for 2 min get a 10 s period at the same moment.
        var applied = T0 + TimeSpan.FromMinutes(2);
        var firstEnds = new List<double>();
        for (ulong host = 0; host < 100; host++)
        {
            var clock = new PeriodClock(Xoshiro256StarStar.ForStream(7, host));
            clock.Start(T0, FiveMinutes);
            Assert.False(clock.Tick(applied, TenSeconds));
            var end = clock.End!.Value;
            Assert.InRange(end, applied, applied + TenSeconds);
            var ended = Enumerable.Range(1, 100).Select(ms => applied + TimeSpan.FromMilliseconds(ms * 100)).First(t => clock.Tick(t, TenSeconds));
            firstEnds.Add((ended - applied).TotalSeconds);
        }

        // Spread over the new period, not all on the tick the policy arrived.
        Assert.All(firstEnds, s => Assert.InRange(s, 0.1, 10.0));
        Assert.True(firstEnds.Count(s => s < 5) is > 30 and < 70, $"{firstEnds.Count(s => s < 5)} of 100 first ends in the first half");
        Assert.True(firstEnds.Distinct().Count() > 50, "the phases are not random per host");
    }

    [Fact]
    public void APeriodThatLeavesLessThanTheTimeLeft_KeepsTheCurrentEnd()
    {
        var clock = new PeriodClock(new Xoshiro256StarStar(3));
        clock.Start(T0, TenSeconds);
        Assert.False(clock.Tick(T0 + TimeSpan.FromSeconds(4), FiveMinutes)); // longer: the current period ends as planned
        Assert.Equal(T0 + TenSeconds, clock.End);
        Assert.False(clock.Tick(T0 + TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(8))); // shorter, but 5 s are left: kept
        Assert.Equal(T0 + TenSeconds, clock.End);
        Assert.True(clock.Tick(T0 + TenSeconds, TimeSpan.FromSeconds(8)));
        Assert.Equal(T0 + TimeSpan.FromSeconds(18), clock.End);
    }
}
