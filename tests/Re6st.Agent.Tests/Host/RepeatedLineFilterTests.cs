using Microsoft.Extensions.Time.Testing;
using Re6st.Agent.Host;

namespace Re6st.Agent.Tests.Host;

public sealed class RepeatedLineFilterTests
{
    [Fact]
    public void ALineRepeatedAHundredThousandTimes_WritesTheAllowedOnes_ThenOneSummaryPerWindow()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var written = new List<string>();
        using var filter = new RepeatedLineFilter(written.Add, time, TimeSpan.FromSeconds(10), allowed: 5);

        for (var i = 0; i < 100_000; i++)
        {
            filter.Write($"babeld[{i % 7 + 100}]: add_hmac: no link-local address.");
        }

        Assert.Equal(5, written.Count);
        Assert.Equal(99_995, filter.Suppressed);

        // The window ends: one line says how many were left out, even though the flood stopped.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(6, written.Count);
        Assert.StartsWith("(left out 99995 more line(s) like this one within 10 s: babeld[", written[5], StringComparison.Ordinal);

        // A new window lets the line through again.
        filter.Write("babeld[1]: add_hmac: no link-local address.");
        Assert.Equal(7, written.Count);
    }

    [Fact]
    public void DifferentLines_AreNotMerged_AndNumbersDoNotMakeANewShape()
    {
        var time = new FakeTimeProvider();
        var written = new List<string>();
        using var filter = new RepeatedLineFilter(written.Add, time, TimeSpan.FromSeconds(10), allowed: 1);
        filter.Write("a: draining re60a3 to b: 3 route(s) still use it");
        filter.Write("a: draining re60a5 to b: 1 route(s) still use it");
        filter.Write("a: removing re60a3 to b (drained)");
        Assert.Equal(["a: draining re60a3 to b: 3 route(s) still use it", "a: removing re60a3 to b (drained)"], written);
        Assert.Equal(1, filter.Suppressed);
        Assert.Equal("a: draining re#a# to b: # route(s) still use it", RepeatedLineFilter.ShapeOf(written[0]));
    }
}
