using Re6st.Agent.Babel;
using Re6st.Core.Addressing;
using Re6st.Core.Planning;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Babel;

public sealed class BabelOutFilterTests(ITestOutputHelper output)
{
    private static readonly BabelKey MeshKey = BabelKey.FromBytes("mesh", new byte[32]);

    [Fact(Timeout = 60_000)]
    public async Task PrefixesDeniedByTheMembershipOutFilters_AreNotLearnedByThePeer_WhileAllowedOnesAre()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        var (ab, ba) = await lab.LinkAsync(a, b);

        // A bridge-like membership: it announces aggregates (allowed) while more specific routes
        // inside them (MoreSpecific filter) and one exact prefix per family (Exact filter) must stay out.
        var aggregate6 = IpPrefix.Parse("fd5e:6a00:100::/40");
        var inside6 = IpPrefix.Parse("fd5e:6a00:100:1::/64");
        var exact6 = IpPrefix.Parse("fd5e:6a00:200::/48");
        var aggregate4 = IpPrefix.Parse("10.68.0.0/16");
        var inside4 = IpPrefix.Parse("10.68.1.0/24");
        var exact4 = IpPrefix.Parse("10.67.0.0/16");
        var membership = new MembershipPlan(
            "0",
            MembershipRole.Home,
            null,
            IpPrefix.Parse("fd5e:6a00::/32"),
            IpPrefix.Parse("10.64.0.0/10"),
            [a.Ipv6Prefix, a.Ipv4Prefix, aggregate6, inside6, exact6, aggregate4, inside4, exact4],
            [
                new RouteFilter(aggregate6, FilterMatch.MoreSpecific),
                new RouteFilter(exact6, FilterMatch.Exact),
                new RouteFilter(aggregate4, FilterMatch.MoreSpecific),
                new RouteFilter(exact4, FilterMatch.Exact),
            ]);
        var plan = new NodePlan("a", "0", a.Ipv6Prefix, a.Ipv4Prefix, [membership]);
        foreach (var prefix in new[] { aggregate6, inside6, exact6, aggregate4, inside4, exact4 })
        {
            await lab.IpAsync(a, "route", "add", "unreachable", prefix.ToString(), "proto", "static");
        }

        var configA = BabelConfig.ForNode(
            plan, new Dictionary<string, IReadOnlyList<string>> { ["0"] = [ab] }, lab.PathFor("a.sock"), MeshKey, TimeSpan.FromSeconds(1));
        var babelA = LabBabeld.Start(lab, a, configA);
        var babelB = LabBabeld.Start(lab, b, LabBabeld.ConfigFor(lab, b, [new(ba)], MeshKey));

        // A originates all eight; the filters act on the link only.
        var originated = await babelA.WaitForAsync(s => s.Xroutes.Count == 8);
        Assert.Equal(membership.Announce.Order(), originated.Xroutes.Values.Select(x => x.Prefix).Order());

        var allowed = new[] { a.Ipv6Prefix, a.Ipv4Prefix, aggregate6, aggregate4 };
        await babelB.WaitForAsync(s => allowed.All(p => s.InstalledRouteTo(p) is not null));

        // The denied prefixes left A in the same updates as the allowed ones; a few more update
        // intervals (4 hellos each) rule out a late arrival.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var state = babelB.State;
        foreach (var denied in new[] { inside6, exact6, inside4, exact4 })
        {
            Assert.False(state.Routes.Values.Any(r => r.Prefix == denied), $"{denied} reached B: {state}");
        }

        Assert.Equal(allowed.Order(), state.Routes.Values.Where(r => r.Carries).Select(r => r.Prefix).Order());
        var kernel = await lab.IpAsync(b, "-6", "route", "show", "proto", "babel");
        Assert.Contains(aggregate6.ToString(), kernel.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(inside6.ToString(), kernel.Output, StringComparison.Ordinal);
    }
}
