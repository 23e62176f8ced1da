using Re6st.Agent.Lifecycle;

namespace Re6st.Agent.Tests.Lifecycle;

/// <summary>Reading `ip -j route show` (as iproute2 6.1 prints it) and writing the `ip` arguments that name a route.</summary>
public sealed class KernelRouteTests
{
    [Fact]
    public void Parse_ReadsGatewaysDevicesMetrics_GivesHostRoutesTheirLength_AndSkipsTheDefault()
    {
        const string v6 = """
            [{"dst":"fd5e:6a00:0:3::/64","gateway":"fe80::56f6:a47e:1:1","dev":"r6a000","protocol":"babel","metric":1024,"flags":["onlink"],"pref":"medium"},
             {"dst":"fd5e:6a00:0:2::1","dev":"r6a001","protocol":"251","metric":2000,"flags":[]},
             {"dst":"default","gateway":"fe80::1","dev":"eth0","metric":1024,"flags":[]}]
            """;
        Assert.Equal(
            [new KernelRoute("fd5e:6a00:0:3::/64", "fe80::56f6:a47e:1:1", "r6a000", 1024), new KernelRoute("fd5e:6a00:0:2::1/128", null, "r6a001", 2000)],
            KernelRoute.Parse(v6, 128));

        const string v4ViaV6 = """[{"dst":"10.42.0.3","via":{"family":"inet6","host":"fe80::56f6:a47e:1:1"},"dev":"r6a000","protocol":"babel","flags":["onlink"]}]""";
        Assert.Equal([new KernelRoute("10.42.0.3/32", "inet6 fe80::56f6:a47e:1:1", "r6a000", 0)], KernelRoute.Parse(v4ViaV6, 32));
        Assert.Empty(KernelRoute.Parse("", 128));

        // An unreachable route with the largest priority the kernel takes, 2^32 - 1: both survive the copy.
        const string unreachable = """[{"type":"unreachable","dst":"fd00::/64","dev":"lo","metric":4294967295,"flags":[],"pref":"medium"}]""";
        var lost = Assert.Single(KernelRoute.Parse(unreachable, 128));
        Assert.Equal(new KernelRoute("fd00::/64", null, "lo", 4294967295, "unreachable"), lost);
        Assert.Equal(["-6", "route", "replace", "unreachable", "fd00::/64", "dev", "lo", "proto", "252", "metric", "3000"], lost.Arguments("replace", 252, 3000));
        Assert.Equal(["-6", "route", "del", "unreachable", "fd00::/64", "dev", "lo", "proto", "42", "metric", "4294967295"], lost.Arguments("del", 42, lost.Metric));
    }

    [Fact]
    public void Arguments_NameTheRouteWithItsFamily_NextHop_Protocol_AndMetric()
    {
        Assert.Equal(
            ["-6", "route", "replace", "fd5e:6a00:0:3::/64", "via", "fe80::1", "dev", "r6a000", "proto", "252", "metric", "3000"],
            new KernelRoute("fd5e:6a00:0:3::/64", "fe80::1", "r6a000", 1024).Arguments("replace", 252, 3000));
        Assert.Equal(
            ["-4", "route", "del", "10.42.0.3/32", "via", "inet6", "fe80::1", "dev", "r6a000", "proto", "42", "metric", "0"],
            new KernelRoute("10.42.0.3/32", "inet6 fe80::1", "r6a000", 0).Arguments("del", 42, 0));
    }
}
