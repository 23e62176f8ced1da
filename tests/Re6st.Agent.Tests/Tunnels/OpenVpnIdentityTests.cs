using Re6st.Agent.Tunnels;

namespace Re6st.Agent.Tests.Tunnels;

public sealed class OpenVpnIdentityTests
{
    [Theory]
    [InlineData("ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89")]
    [InlineData("ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
    public void NormalizeFingerprint_CaseAndColonsOptional_GivesOpenVpnsForm(string published) =>
        Assert.Equal("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89", OpenVpnIdentity.NormalizeFingerprint(published));

    [Theory]
    [InlineData("")]
    [InlineData("AB:CD")]
    [InlineData("5E:9B:6D:40:9A:D1:A6:B0:A1:93:4C:4E:4A:59:FA:E5:81:06:F6:14")]
    [InlineData("zz:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89")]
    public void NormalizeFingerprint_NotASha256Fingerprint_Throws(string published) =>
        Assert.Throws<ArgumentException>(() => OpenVpnIdentity.NormalizeFingerprint(published));
}
