using Re6st.Core.Addressing;

namespace Re6st.Core.Tests;

public sealed class IpPrefixTests
{
    [Theory]
    [InlineData("fd5e:6e7::/48", "fd5e:6e7::/48")]
    [InlineData("10.42.0.0/16", "10.42.0.0/16")]
    [InlineData("::/0", "::/0")]
    [InlineData("fd00:0:0:0:0:0:0:0/8", "fd00::/8")]
    public void Parse_ValidCidr_RoundTrips(string text, string canonical) =>
        Assert.Equal(canonical, IpPrefix.Parse(text).ToString());

    [Theory]
    [InlineData("", "empty")]
    [InlineData("fd00::", "no prefix length")]
    [InlineData("fd00::/129", "invalid prefix length")]
    [InlineData("10.0.0.0/33", "invalid prefix length")]
    [InlineData("fd00::/-1", "invalid prefix length")]
    [InlineData("zz::/48", "valid IP address")]
    [InlineData("fd00::1/48", "host bits set; did you mean fd00::/48?")]
    [InlineData("10.42.1.0/16", "did you mean 10.42.0.0/16?")]
    public void TryParse_Malformed_SaysWhy(string text, string reason)
    {
        Assert.False(IpPrefix.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    // IPAddress.TryParse also reads the inet_aton forms (a decimal or hex integer, fewer than four
    // parts, octal parts with a leading 0); a CIDR in a resource must be a dotted quad, as Go reads it.
    [Theory]
    [InlineData("167772160/8")]
    [InlineData("0x0A000000/8")]
    [InlineData("012.0.0.0/8")]
    [InlineData("10.42.0/24")]
    [InlineData("10.42/16")]
    public void TryParse_Ipv4NotADottedQuad_IsRejectedWithoutASuggestion(string text)
    {
        Assert.False(IpPrefix.TryParse(text, out var prefix, out var error), $"'{text}' was read as {prefix}");
        Assert.DoesNotContain("did you mean", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Subprefix_AndIndexOf_AreInverse()
    {
        var range = IpPrefix.Parse("fd5e:6e7::/48");
        var p = range.Subprefix(513, 64);
        Assert.Equal("fd5e:6e7:0:201::/64", p.ToString());
        Assert.Equal((UInt128)513, range.IndexOf(p));
        Assert.True(range.StrictlyContains(p));
        Assert.False(p.Contains(range));
        Assert.True(range.Contains(range));
        Assert.False(range.StrictlyContains(range));
    }

    [Fact]
    public void Ipv4_Subprefix_StaysInLow32Bits()
    {
        var range = IpPrefix.Parse("10.42.0.0/16");
        Assert.Equal("10.42.1.5/32", range.Subprefix(261, 32).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => range.Subprefix(65536, 32));
    }
}
