using Re6st.Agent.Kube;

namespace Re6st.Agent.Tests.Kube;

public sealed class ClockOffsetTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 10, TimeSpan.Zero);

    [Fact]
    public void AServerDateAhead_ReadsAsThisHostBehind_InWholeSeconds()
    {
        var clock = new ClockOffset();
        Assert.Null(clock.Seconds);

        // Sent at 10.2 s, answered at 10.4 s; the server's Date says 15 s (its second 15.0–16.0).
        clock.Observe(T0.AddSeconds(0.2), T0.AddSeconds(0.4), T0.AddSeconds(5));

        Assert.Equal(5, clock.Seconds);
    }

    [Fact]
    public void Noise_DoesNotFlipThePublishedFigure_AMoveOfASecondAndAHalfDoes()
    {
        var clock = new ClockOffset();
        clock.Observe(T0, T0.AddSeconds(0.01), T0); // +0.495 s: 0
        Assert.Equal(0, clock.Seconds);
        clock.Observe(T0.AddSeconds(0.9), T0.AddSeconds(0.91), T0); // -0.405 s: noise around 0
        Assert.Equal(0, clock.Seconds);

        clock.Observe(T0.AddSeconds(3), T0.AddSeconds(3.01), T0); // -2.505 s: a real move
        Assert.Equal(-3, clock.Seconds);
    }

    [Fact]
    public void ASlowAnswer_OrNoDateHeader_IsNotAReading()
    {
        var clock = new ClockOffset();
        clock.Observe(T0, T0.AddSeconds(5), T0.AddSeconds(30));
        clock.Observe(T0, T0.AddSeconds(0.1), null);
        Assert.Null(clock.Seconds);
    }
}
