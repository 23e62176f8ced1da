using Re6st.Core.Policy;

namespace Re6st.Core.Tests;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("0s", 0)]
    [InlineData("250ms", 250)]
    [InlineData("90s", 90_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("2h45m30s500ms", 9_930_500)]
    [InlineData("30m1h", 5_400_000)]
    [InlineData(" 5m ", 300_000)]
    [InlineData("-5m", -300_000)]
    [InlineData("+5m", 300_000)]
    [InlineData("1500us", 1.5)]
    [InlineData("1500\u00b5s", 1.5)]
    [InlineData("2000000ns", 2)]
    public void TryParse_KubernetesDuration_GivesItsLength(string text, double milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
        Assert.Equal(string.Empty, error);
    }

    [Theory]
    [InlineData(null, "is empty")]
    [InlineData("", "is empty")]
    [InlineData("   ", "is empty")]
    [InlineData("5", "unknown unit")]
    [InlineData("5d", "unknown unit")]
    [InlineData("5 m", "unknown unit")]
    [InlineData("1h30", "unknown unit")]
    [InlineData("m5", "is not a duration")]
    [InlineData("--5m", "is not a duration")]
    [InlineData("1.2.3s", "is not a duration")]
    [InlineData("99999999999999h", "is too long")]
    public void TryParse_NotADuration_SaysWhy(string? text, string reason)
    {
        Assert.False(GoDuration.TryParse(text, out var value, out var error));
        Assert.Equal(TimeSpan.Zero, value);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(250, "250ms")]
    [InlineData(90_000, "1m30s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(3_605_000, "1h0m5s")]
    [InlineData(5_400_000, "1h30m0s")]
    [InlineData(93_600_000, "26h0m0s")]
    [InlineData(3_723_004, "1h2m3.004s")]
    [InlineData(1_500, "1.5s")]
    [InlineData(-300_000, "-5m0s")]
    public void Format_WritesWhatGoAndKubernetesWrite(long milliseconds, string expected) =>
        Assert.Equal(expected, GoDuration.Format(TimeSpan.FromMilliseconds(milliseconds)));

    [Theory]
    [InlineData(1)]
    [InlineData(59_999)]
    [InlineData(3_600_001)]
    [InlineData(360_000_000)]
    public void Format_ThenTryParse_RoundTrips(long milliseconds)
    {
        var value = TimeSpan.FromMilliseconds(milliseconds);
        Assert.True(GoDuration.TryParse(GoDuration.Format(value), out var parsed, out _));
        Assert.Equal(value, parsed);
    }
}
