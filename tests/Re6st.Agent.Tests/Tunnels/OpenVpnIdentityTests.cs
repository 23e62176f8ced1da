using Re6st.Lab.Netns;
using Re6st.Agent.Tunnels;

namespace Re6st.Agent.Tests.Tunnels;

public sealed class OpenVpnIdentityTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("re6st-openvpn-id-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task LoadOrCreate_FirstRun_WritesAPrivateP256PairWhoseFingerprintIsOpensslsSha256()
    {
        var identity = await OpenVpnIdentity.LoadOrCreateAsync(_directory.FullName, "node-1", CancellationToken.None);

        foreach (var file in new[] { identity.CertificatePath, identity.KeyPath })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        var fingerprint = await Command.RunAsync("openssl", ["x509", "-noout", "-fingerprint", "-sha256", "-in", identity.CertificatePath]);
        Assert.Equal(fingerprint.Output.Trim().Split('=', 2)[1], identity.Fingerprint);
        var text = (await Command.RunAsync("openssl", ["x509", "-noout", "-text", "-in", identity.CertificatePath])).Output;
        Assert.Contains("ASN1 OID: prime256v1", text, StringComparison.Ordinal);
        Assert.Contains("Subject: CN = node-1", text, StringComparison.Ordinal);
        Assert.Contains("Not After : Dec 31 23:59:59 9999 GMT", text, StringComparison.Ordinal);
        var key = await Command.RunAsync("openssl", ["pkey", "-in", identity.KeyPath, "-noout", "-check"], check: false);
        Assert.True(key.Succeeded, key.ToString());
    }

    [Fact]
    public async Task LoadOrCreate_SecondRun_KeepsTheSameIdentity()
    {
        var first = await OpenVpnIdentity.LoadOrCreateAsync(_directory.FullName, "node-1", CancellationToken.None);
        var second = await OpenVpnIdentity.LoadOrCreateAsync(_directory.FullName, "node-1", CancellationToken.None);
        Assert.Equal(first, second);
        Assert.DoesNotContain(_directory.GetFiles(), f => f.Name.EndsWith(".new", StringComparison.Ordinal));
    }

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
