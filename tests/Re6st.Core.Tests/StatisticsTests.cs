namespace Re6st.Core.Tests;

public sealed class StatisticsTests
{
    // Critical values at p = 0.001 from the standard chi-square table: the tail there must be 0.001.
    [Theory]
    [InlineData(1, 10.828)]
    [InlineData(9, 27.877)]
    [InlineData(18, 42.312)]
    [InlineData(39, 72.055)]
    [InlineData(100, 149.449)]
    public void ChiSquareUpperTail_AtTabulatedCriticalValue_IsOneInAThousand(int degreesOfFreedom, double critical) =>
        Assert.Equal(0.001, Statistics.ChiSquareUpperTail(critical, degreesOfFreedom), 5);

    [Theory]
    [InlineData(2, 2.0, 0.36787944117144233)]
    [InlineData(2, 10.0, 0.006737946999085467)]
    [InlineData(4, 1.0, 0.9097959895689501)]
    public void ChiSquareUpperTail_MatchesClosedForms(int degreesOfFreedom, double x, double expected) =>
        Assert.Equal(expected, Statistics.ChiSquareUpperTail(x, degreesOfFreedom), 10);

    [Fact]
    public void AssertUniformSubsets_SkewedCounts_Fail()
    {
        long[] skewed = [1100, 1000, 1000, 1000, 900];
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Statistics.AssertUniformSubsets(skewed, 5000, 1, "skewed"));
    }
}
