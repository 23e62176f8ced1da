using Re6st.Core.Arrows;

namespace Re6st.Core.Tests;

public sealed class PeerBackoffTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Fail_InARow_DoublesFrom30SecondsUpTo10Minutes()
    {
        var backoff = new PeerBackoff();
        var pauses = Enumerable.Range(0, 8).Select(_ => backoff.Fail("b", T0).TotalSeconds);
        Assert.Equal([30, 60, 120, 240, 480, 600, 600, 600], pauses);
    }

    [Fact]
    public void APeerIsLeftOutUntilItsPauseEnds_OrUntilAnArrowToItComesUp()
    {
        var backoff = new PeerBackoff();
        backoff.Fail("b", T0);
        backoff.Fail("c", T0);
        Assert.True(backoff.IsBackedOff("b", T0 + TimeSpan.FromSeconds(29)));
        Assert.False(backoff.IsBackedOff("b", T0 + TimeSpan.FromSeconds(30)));
        Assert.False(backoff.IsBackedOff("d", T0));
        Assert.Equal(["b", "c"], backoff.BackedOff(T0));

        Assert.True(backoff.Succeed("c"));
        Assert.False(backoff.IsBackedOff("c", T0));
        Assert.False(backoff.Succeed("c"));

        // After a success the next failure starts from the first pause again.
        Assert.Equal(PeerBackoff.First, backoff.Fail("c", T0));
    }
}
