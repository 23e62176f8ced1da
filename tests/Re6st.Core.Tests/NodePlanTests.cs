using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Randomness;

namespace Re6st.Core.Tests;

public sealed class NodePlanTests
{
    private static readonly MeshLayout Base = new()
    {
        Ipv6Range = IpPrefix.Parse("fd5e:6e7::/48"),
        Ipv4Range = IpPrefix.Parse("10.42.0.0/16"),
    };

    public static TheoryData<int, int[]> Layouts => new()
    {
        { 2, [6] },
        { 3, [3, 4] },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void NodePlanFor_Member_AnnouncesItsOwnPrefixesAndFiltersNothing(int order, int[] subMeshes)
    {
        var plan = Plan(order, subMeshes);
        var members = Enumerable.Range(0, plan.NodeCount).Where(i => plan.MembershipCount(i) == 1).ToList();
        Assert.NotEmpty(members);
        foreach (var i in members)
        {
            var node = plan.NodePlanFor(i);
            Assert.False(node.IsBridge);
            var home = Assert.Single(node.Memberships);
            Assert.Equal(MembershipRole.Home, home.Role);
            Assert.Null(home.BridgeLevel);
            Assert.Equal(node.HomeSubMesh, home.SubMesh);
            Assert.Equal([plan.Ipv6PrefixOf(i), plan.Ipv4PrefixOf(i)!.Value], home.Announce);
            Assert.Empty(home.DenyOut);
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void NodePlanFor_Bridge_AnnouncesEachSideAsOneAggregateAndDeniesWhatIsInside(int order, int[] subMeshes)
    {
        var plan = Plan(order, subMeshes);
        var tree = plan.Tree;
        var checkedRoles = 0;
        for (var i = 0; i < plan.NodeCount; i++)
        {
            var roles = plan.BridgeRolesOf(i).ToArray();
            if (roles.Length != 1)
            {
                continue;
            }

            var b = roles[0];
            var node = plan.NodePlanFor(i);
            Assert.True(node.IsBridge);
            var (home, visit) = (node.Memberships[0], node.Memberships[1]);
            Assert.Equal(MembershipRole.Bridge, visit.Role);
            Assert.Equal(b.Level, visit.BridgeLevel);
            Assert.Equal(tree.IdOf(b.Target), visit.SubMesh);

            // Seen from the target, the bridge's side is its home's ancestor at the election level; and the reverse.
            var homeSide = tree.AncestorAt(plan.HomeOf(i), b.Level);
            var targetSide = tree.AncestorAt(b.Target, b.Level);
            foreach (var family in new[] { IpFamily.V6, IpFamily.V4 })
            {
                var homeAggregate = tree.RangeOf(homeSide, family);
                var targetAggregate = tree.RangeOf(targetSide, family);
                Assert.Contains(homeAggregate, visit.Announce);
                Assert.Contains(new RouteFilter(homeAggregate, FilterMatch.MoreSpecific), visit.DenyOut);
                Assert.Contains(targetAggregate, home.Announce);
                Assert.Contains(new RouteFilter(targetAggregate, FilterMatch.MoreSpecific), home.DenyOut);
                Assert.DoesNotContain(plan.PrefixOf(i, family), visit.Announce);
                Assert.Contains(plan.PrefixOf(i, family), home.Announce);

                // No aggregate covering a sub-mesh is ever imported into it.
                foreach (var (membership, leaf) in new[] { (home, plan.HomeOf(i)), (visit, b.Target) })
                {
                    for (var s = leaf; tree.LevelOf(s) >= 1; s = tree.ParentOf(s))
                    {
                        Assert.Contains(new RouteFilter(tree.RangeOf(s, family), FilterMatch.Exact), membership.DenyOut);
                    }

                    Assert.All(membership.Announce.Where(a => a.Family == family && a.Length <= plan.Layout.LeafPrefixLength(family)), a => Assert.False(a.Overlaps(tree.RangeOf(leaf, family)), $"{a} announced into {tree.IdOf(leaf)}"));
                }
            }

            checkedRoles++;
        }

        Assert.True(checkedRoles > 10, $"only {checkedRoles} bridges checked");
    }

    [Fact]
    public void NodePlanFor_Name_FindsTheNodeOrThrows()
    {
        var plan = Plan(2, [6]);
        Assert.Throws<KeyNotFoundException>(() => plan.NodePlanFor("nobody"));
        var byName = plan.NodePlanFor(plan.Nodes[7].Name);
        Assert.Equal(plan.Nodes[7].Name, byName.Name);
        Assert.Equal(plan.Ipv6PrefixOf(7), byName.Ipv6Prefix);
        Assert.Equal(plan.Tree.IdOf(plan.HomeOf(7)), byName.HomeSubMesh);
    }

    [Theory]
    [InlineData(FilterMatch.Exact, "fd5e:6e7:0:4000::/50", "out if re6st-wg3 ip fd5e:6e7:0:4000::/50 eq 50 deny")]
    [InlineData(FilterMatch.MoreSpecific, "fd5e:6e7:0:4000::/50", "out if re6st-wg3 ip fd5e:6e7:0:4000::/50 ge 51 deny")]
    [InlineData(FilterMatch.MoreSpecific, "10.42.64.0/18", "out if re6st-wg3 ip 10.42.64.0/18 ge 19 deny")]
    public void RouteFilter_ToBabel_WritesTheOutFilter(FilterMatch match, string prefix, string expected) =>
        Assert.Equal(expected, new RouteFilter(IpPrefix.Parse(prefix), match).ToBabel("re6st-wg3"));

    [Theory]
    [InlineData(FilterMatch.Exact, "fd5e:6e7:0:4000::/50", true)]
    [InlineData(FilterMatch.Exact, "fd5e:6e7:0:4000::/51", false)]
    [InlineData(FilterMatch.MoreSpecific, "fd5e:6e7:0:4000::/50", false)]
    [InlineData(FilterMatch.MoreSpecific, "fd5e:6e7:0:4001::/64", true)]
    [InlineData(FilterMatch.MoreSpecific, "fd5e:6e7:0:8001::/64", false)]
    public void RouteFilter_Denies_MatchesExactlyOrStrictlyInside(FilterMatch match, string route, bool denied) =>
        Assert.Equal(denied, new RouteFilter(IpPrefix.Parse("fd5e:6e7:0:4000::/50"), match).Denies(IpPrefix.Parse(route)));

    [Theory]
    [MemberData(nameof(Layouts))]
    public void NodePlanFor_PodNetwork_CarvesEachNodesPodRangesFromItsOwnPrefixes_ClearOfItsAddress(int order, int[] subMeshes)
    {
        var spec = new MeshSpec { Ipv6Range = "fd5e:6e7::/48", Ipv4Range = "10.0.0.0/8", Ipv4NodePrefixLength = 24, Order = order, SubMeshes = subMeshes, PodNetwork = new PodNetworkSpec { Enabled = true } };
        var layout = MeshValidator.Validate(spec).ValueOrThrow();
        Assert.Equal(new PodNetworkLayout(65, 25), layout.Pods);
        var plan = MeshPlanner.Plan(layout, [.. Enumerable.Range(0, 240).Select(i => NodeInfo.Named($"node-{i:D3}"))], null, false, new Xoshiro256StarStar(7));
        var ranges = new List<IpPrefix>();
        for (var i = 0; i < plan.NodeCount; i++)
        {
            var node = plan.NodePlanFor(i);
            var pods = node.Pods!;
            Assert.Equal(node.Ipv6Prefix.Subprefix(1, 65), pods.Ipv6);
            Assert.Equal(node.Ipv4Prefix!.Value.Subprefix(1, 25), pods.Ipv4);
            Assert.False(pods.Ipv6.Contains(IpPrefix.Parse(Host(node.Ipv6Prefix))));
            Assert.False(pods.Ipv4!.Value.Contains(IpPrefix.Parse(Host(node.Ipv4Prefix.Value))));
            Assert.Equal(layout.Ipv6Range, pods.MeshIpv6);
            Assert.Equal(layout.Ipv4Range, pods.MeshIpv4);

            // Pods are routed by what the node already announces: nothing of their own.
            Assert.Contains(node.Memberships[0].Announce, a => a.Contains(pods.Ipv6));
            Assert.Contains(node.Memberships[0].Announce, a => a.Contains(pods.Ipv4.Value));
            Assert.Equal([pods.Ipv4.Value.ToString(), pods.Ipv6.ToString()], pods.ToPodCidrs());
            ranges.Add(pods.Ipv6);
            ranges.Add(pods.Ipv4.Value);
        }

        Assert.All(ranges, a => Assert.Single(ranges, b => a.Overlaps(b)));

        // A set length takes the last sub-prefix of that length; without the pod network, no ranges.
        var quarter = MeshValidator.Validate(spec with { PodNetwork = new PodNetworkSpec { Enabled = true, Ipv6PrefixLength = 66, Ipv4PrefixLength = 26 } }).ValueOrThrow();
        var first = MeshPlanner.Plan(quarter, [NodeInfo.Named("a")], null, false, new Xoshiro256StarStar(1)).NodePlanFor(0);
        Assert.Equal(first.Ipv6Prefix.Subprefix(3, 66), first.Pods!.Ipv6);
        Assert.Equal(first.Ipv4Prefix!.Value.Subprefix(3, 26), first.Pods.Ipv4);
        Assert.Null(Plan(order, subMeshes).NodePlanFor(0).Pods);

        static string Host(IpPrefix p) => new IpPrefix(p.Family, p.Address + 1, p.Width).ToString();
    }

    private static MeshPlan Plan(int order, int[] subMeshes) =>
        MeshPlanner.Plan(
            Base with { Order = order, SubMeshes = subMeshes },
            [.. Enumerable.Range(0, 240).Select(i => NodeInfo.Named($"node-{i:D3}"))],
            null,
            false,
            new Xoshiro256StarStar(42));
}
