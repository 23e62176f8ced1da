using Re6st.Agent.Host;
using Re6st.Agent.Lifecycle;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

/// <summary>
/// What a killed babeld leaves in the kernel, taken over by the next run (in a network namespace
/// of a lab host): the routes that carry packets are kept below babeld's own, the unreachable ones
/// babeld holds for prefixes it lost are dropped, and nothing is left once the kept routes go.
/// </summary>
public sealed class LeftRoutesTests(ITestOutputHelper output)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact(Timeout = 60_000)]
    public async Task KeepAsync_KeepsTheRoutesThatCarry_DropsTheUnreachable_AndRemoveAsyncLeavesNothing()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var host = await lab.AddHostAsync("a", announce: false);
        // A device for the unicast route (this kernel has veth, not dummy).
        await lab.InAsync(host, "ip", "link", "add", "r6arrow", "type", "veth", "peer", "name", "r6peer");
        await lab.InAsync(host, "ip", "link", "set", "r6arrow", "up");
        await lab.InAsync(host, "ip", "link", "set", "r6peer", "up");
        // As babeld 1.12 leaves them: a unicast route through an arrow, and an unreachable one of
        // priority 2^32 - 1 (the largest, which a 32-bit signed read could not take).
        await lab.InAsync(host, "ip", "-6", "route", "add", "fd00:1::/64", "dev", "r6arrow", "proto", "42", "metric", "1024");
        await lab.InAsync(host, "ip", "-6", "route", "add", "unreachable", "fd00:2::/64", "proto", "42", "metric", "4294967295");

        var left = new LeftRoutes(new HostShell(host.Namespace));
        Assert.Equal(1, await left.KeepAsync(None));
        Assert.Equal("", (await lab.InAsync(host, "ip", "-6", "route", "show", "proto", "42")).Output.Trim());
        var kept = (await lab.InAsync(host, "ip", "-6", "route", "show", "proto", "252")).Output.Trim();
        Assert.Equal("fd00:1::/64 dev r6arrow metric 3000 pref medium", kept);

        // Once babeld installed its own route to the kept destination, the kept one goes.
        Assert.Equal(0, await left.RemoveCoveredAsync(new HashSet<string>(StringComparer.Ordinal) { "fd00:3::/64" }, None));
        Assert.Equal(1, await left.RemoveCoveredAsync(new HashSet<string>(StringComparer.Ordinal) { "fd00:1::/64" }, None));
        Assert.Equal(0, await left.RemoveAsync(None));
        Assert.Equal("", (await lab.InAsync(host, "ip", "-6", "route", "show", "proto", "252")).Output.Trim());
    }
}
