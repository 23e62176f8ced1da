using Re6st.Agent.Host;
using Re6st.Agent.Lifecycle;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

/// <summary>
/// The traffic the most-used exception sees, counted by nft in network namespaces: a host r between
/// a and b (two veths standing for arrows) forwards a's pings to b; what r forwards counts on both
/// of its interfaces, r's own pings count nothing, and an interface forgotten starts from zero.
/// </summary>
public sealed class ArrowTrafficTests(ITestOutputHelper output)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact(Timeout = 60_000)]
    public async Task ForwardedBytes_CountOnBothArrows_TheHostsOwnPacketsDoNot_AndAForgottenArrowStartsAtZero()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var a = await lab.AddHostAsync("a", announce: false);
        var r = await lab.AddHostAsync("r", announce: false);
        var b = await lab.AddHostAsync("b", announce: false);
        var (atA, toA) = await lab.LinkAsync(a, r);
        var (toB, atB) = await lab.LinkAsync(r, b);
        await lab.IpAsync(a, "address", "add", "10.77.1.2/24", "dev", atA);
        await lab.IpAsync(a, "route", "add", "default", "via", "10.77.1.1");
        await lab.IpAsync(b, "address", "add", "10.77.2.2/24", "dev", atB);
        await lab.IpAsync(b, "route", "add", "default", "via", "10.77.2.1");
        await lab.IpAsync(r, "address", "add", "10.77.1.1/24", "dev", toA);
        await lab.IpAsync(r, "address", "add", "10.77.2.1/24", "dev", toB);
        await lab.InAsync(r, "sysctl", "-qw", "net.ipv4.ip_forward=1");

        // The arrows' names begin with the lab's run id, as an agent's begin with its prefix.
        var traffic = new ArrowTraffic(new HostShell(r.Namespace), lab.RunId);
        await traffic.InitializeAsync(None);
        (string, string)[] arrows = [(toA, "arrow-a"), (toB, "arrow-b")];
        Assert.All((await traffic.SinceLastAsync(arrows, None)).Values, bytes => Assert.Equal(0, bytes));

        // r's own packets: not forwarded, not counted.
        Assert.Equal(0, (await lab.InAsync(r, "ping", "-c", "3", "-i", "0.2", "-q", "10.77.2.2")).ExitCode);
        Assert.All((await traffic.SinceLastAsync(arrows, None)).Values, bytes => Assert.Equal(0, bytes));

        // a's pings to b cross r: 5 requests out of one arrow and in from the other, 5 replies back,
        // 84 bytes each (IPv4 header, ICMP header, 56 bytes of data).
        Assert.Equal(0, (await lab.InAsync(a, "ping", "-c", "5", "-i", "0.2", "-q", "10.77.2.2")).ExitCode);
        var counted = await traffic.SinceLastAsync(arrows, None);
        Assert.Equal(10 * 84, counted["arrow-a"]);
        Assert.Equal(10 * 84, counted["arrow-b"]);

        // Since the last reading only; and a forgotten interface that serves a new arrow starts at zero.
        Assert.All((await traffic.SinceLastAsync(arrows, None)).Values, bytes => Assert.Equal(0, bytes));
        await traffic.ForgetAsync(toB, None);
        Assert.Equal(0, (await lab.InAsync(a, "ping", "-c", "1", "-q", "10.77.2.2")).ExitCode);
        counted = await traffic.SinceLastAsync([(toA, "arrow-a"), (toB, "arrow-b2")], None);
        Assert.Equal(2 * 84, counted["arrow-a"]);
        Assert.Equal(2 * 84, counted["arrow-b2"]);

        await traffic.RemoveAsync(None);
        Assert.DoesNotContain(ArrowTraffic.Table, (await lab.InAsync(r, "nft", "list", "tables")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReadsEachInterfacesBytes_FromNftsJson()
    {
        const string json = """
            {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
             {"set": {"family": "inet", "name": "out", "table": "re6st-traffic", "type": "ifname", "handle": 2, "size": 65535,
               "elem": [{"elem": {"val": "re6000", "counter": {"packets": 3, "bytes": 252}}}, {"elem": {"val": "re6001", "counter": {"packets": 1, "bytes": 5000000000}}}],
               "stmt": [{"counter": null}]}}]}
            """;
        Assert.Equal([("re6000", 252L), ("re6001", 5_000_000_000L)], ArrowTraffic.Parse(json));
        Assert.Empty(ArrowTraffic.Parse("""{"nftables": [{"set": {"name": "in", "stmt": []}}]}"""));
    }
}
