using System.Net;
using Re6st.Agent.Tunnels;
using Re6st.Core.Policy;

namespace Re6st.Agent.Tests.Tunnels;

public sealed class OpenVpnArgumentsTests
{
    private static readonly OpenVpnProcessFiles Files = new("/state/openvpn/x.pid", "/state/openvpn/x.log", "nogroup");

    [Fact]
    public void IsTlsServer_ForEveryPair_ExactlyOneEndServes()
    {
        var random = new Random(6696);
        for (var i = 0; i < 500; i++)
        {
            var x = RandomFingerprint(random);
            var y = RandomFingerprint(random);
            Assert.NotEqual(OpenVpnArguments.IsTlsServer(x, y), OpenVpnArguments.IsTlsServer(y, x));
        }
    }

    [Fact]
    public void IsTlsServer_IgnoresHowTheFingerprintIsWritten() =>
        Assert.Equal(
            OpenVpnArguments.IsTlsServer(new string('a', 64), new string('B', 64)),
            OpenVpnArguments.IsTlsServer("AA:" + new string('A', 62), new string('b', 64)));

    [Fact]
    public void For_AnIpv4Peer_DialsFromAnIpv4Socket_AndAWaitingEndListensOnIpv6()
    {
        var peer = new string('2', 64);
        var dialing = OpenVpnArguments.For(Spec(peer, new IPEndPoint(IPAddress.Parse("192.0.2.7"), 1195)), Identity('1'), Files);
        var waiting = OpenVpnArguments.For(Spec(peer, null), Identity('1'), Files);

        Assert.Equal(["--proto", "udp4", "--lport", "1194"], After(dialing, "--proto", 4));
        Assert.Equal(["--remote", "192.0.2.7", "1195"], After(dialing, "--remote", 3));
        Assert.Equal(["--proto", "udp6", "--lport", "1194"], After(waiting, "--proto", 4));
    }

    [Fact]
    public void IsTlsServer_OwnFingerprint_Throws() =>
        Assert.Throws<ArgumentException>(() => OpenVpnArguments.IsTlsServer(new string('a', 64), new string('A', 64)));

    [Fact]
    public void For_LowerFingerprint_ServesTls_WithoutDhParameters_AndPinsThePeer()
    {
        var (own, peer) = (Identity('1'), new string('2', 64));
        var args = OpenVpnArguments.For(Spec(peer, new IPEndPoint(IPAddress.Parse("2001:db8::2"), 1195)), own, Files);

        Assert.Equal(["--tls-server", "--dh", "none"], After(args, "--tls-server", 3));
        Assert.DoesNotContain("--tls-client", args);
        Assert.Equal(OpenVpnIdentity.NormalizeFingerprint(peer), After(args, "--peer-fingerprint", 2)[1]);
        Assert.Equal(["--remote", "2001:db8::2", "1195"], After(args, "--remote", 3));
        Assert.Equal(["--proto", "udp6", "--lport", "1194"], After(args, "--proto", 4));
        Assert.Equal(["--dev-type", "tun", "--dev", "r6oab"], After(args, "--dev-type", 4));
        Assert.Contains("--persist-tun", args);
        Assert.DoesNotContain("--ifconfig", args);
        Assert.DoesNotContain("--pull", args);
        Assert.DoesNotContain("--secret", args);
    }

    [Fact]
    public void For_HigherFingerprint_WithoutEndpoint_IsAClientThatWaits()
    {
        var args = OpenVpnArguments.For(Spec(new string('1', 64), null), Identity('2'), Files);
        Assert.Contains("--tls-client", args);
        Assert.DoesNotContain("--tls-server", args);
        Assert.DoesNotContain("--dh", args);
        Assert.DoesNotContain("--remote", args);
    }

    [Theory]
    [InlineData("r6a12345oabcdefg")]
    [InlineData("../etc")]
    [InlineData("")]
    public void For_NameThatIsNoInterfaceName_Throws(string name) =>
        Assert.Throws<ArgumentException>(() => OpenVpnArguments.For(Spec(new string('2', 64), null) with { Interface = name }, Identity('1'), Files));

    [Fact]
    public void For_PeerKeyThatIsNoFingerprint_Throws() =>
        Assert.Throws<ArgumentException>(() => OpenVpnArguments.For(Spec("bm90IGEgZmluZ2VycHJpbnQ=", null), Identity('1'), Files));

    private static TunnelSpec Spec(string peer, IPEndPoint? endpoint) =>
        new("r6oab", TunnelTechnology.OpenVpn, peer, endpoint, 1194, IPAddress.Parse("fe80::a"));

    private static OpenVpnIdentity Identity(char digit) => new("/state/openvpn.crt", "/state/openvpn.key", OpenVpnIdentity.NormalizeFingerprint(new string(digit, 64)));

    private static string[] After(IReadOnlyList<string> args, string first, int count)
    {
        var index = args.ToList().IndexOf(first);
        Assert.True(index >= 0, $"{first} missing from {string.Join(' ', args)}");
        return [.. args.Skip(index).Take(count)];
    }

    private static string RandomFingerprint(Random random)
    {
        var bytes = new byte[32];
        random.NextBytes(bytes);
        return Convert.ToHexString(bytes);
    }
}
