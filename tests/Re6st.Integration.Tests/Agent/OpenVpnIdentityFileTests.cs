using Re6st.Agent.Tunnels;
using Re6st.Lab.Netns;

namespace Re6st.Integration.Tests.Agent;

/// <summary>The agent's OpenVPN identity on disk, read back by openssl (no root needed).</summary>
public sealed class OpenVpnIdentityFileTests : IDisposable
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
}
