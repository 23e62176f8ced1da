using Re6st.Agent.Babel;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Randomness;

namespace Re6st.Agent.Tests.Babel;

public sealed class BabelConfigWriterTests
{
    private static readonly BabelKey Key = new("mesh", "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff");

    [Fact]
    public void Write_HomeNode_MatchesGoldenFile()
    {
        var config = new BabelConfig(
            "/run/re6st/babeld.sock",
            [
                new BabelInterfaceConfig("re6st-a0"),
                new BabelInterfaceConfig("re6st-a1") { RxCost = 512 },
                new BabelInterfaceConfig("re6st-a2") { HelloInterval = TimeSpan.FromSeconds(4) },
            ],
            [IpPrefix.Parse("fd00:1:0:7::/64"), IpPrefix.Parse("10.42.0.7/32")])
        {
            HelloInterval = TimeSpan.FromSeconds(1),
            Keys = [Key],
            DefaultKeyId = Key.Id,
        };

        Golden.AssertMatches("home-node.babeld.conf", BabelConfigWriter.Write(config));
    }

    [Fact]
    public void Write_BridgeNodeOfAnOrder2Plan_MatchesGoldenFile()
    {
        var (plan, interfaces) = BridgeNode();
        var config = BabelConfig.ForNode(plan, interfaces, "/run/re6st/babeld.sock", Key, TimeSpan.FromSeconds(4));

        Golden.AssertMatches("bridge-node.babeld.conf", BabelConfigWriter.Write(config));
    }

    [Fact]
    public void ForNode_BridgeNode_EachInterfaceCarriesItsSubMeshFilters_AndAllAnnouncementsAreRedistributed()
    {
        var (plan, interfaces) = BridgeNode();
        var text = BabelConfigWriter.Write(BabelConfig.ForNode(plan, interfaces, "/run/re6st/babeld.sock", Key, TimeSpan.FromSeconds(4)));
        var lines = text.Split('\n');

        foreach (var membership in plan.Memberships)
        {
            foreach (var name in interfaces[membership.SubMesh])
            {
                var expected = membership.DenyOut.Select(f => f.ToBabel(name)).ToList();
                Assert.Equal(expected, lines.Where(l => l.StartsWith($"out if {name} ", StringComparison.Ordinal)));
            }

            foreach (var prefix in membership.Announce)
            {
                Assert.Contains($"redistribute ip {prefix} eq {prefix.Length} allow", lines);
            }
        }

        Assert.Equal(["redistribute local deny", "redistribute deny"], lines.Where(l => l.StartsWith("redistribute", StringComparison.Ordinal)).TakeLast(2));
    }

    [Fact]
    public void Write_SameConfigTwice_GivesTheSameText()
    {
        var (plan, interfaces) = BridgeNode();
        var config = BabelConfig.ForNode(plan, interfaces, "/run/re6st/babeld.sock", Key, TimeSpan.FromSeconds(1));
        Assert.Equal(BabelConfigWriter.Write(config), BabelConfigWriter.Write(config));
    }

    [Fact]
    public void Write_NoInterface_IsRefusedBecauseBabeldWouldExit()
    {
        var config = new BabelConfig("/run/b.sock", [], [IpPrefix.Parse("fd00::/64")]);
        var e = Assert.Throws<ArgumentException>(() => BabelConfigWriter.Write(config));
        Assert.Contains("at least one interface", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("name-of-16-chars", "not a valid Linux interface name")]
    [InlineData("has space", "not a valid Linux interface name")]
    [InlineData("a/b", "not a valid Linux interface name")]
    [InlineData("x#y", "not a valid Linux interface name")]
    public void Write_InvalidInterfaceName_IsRefused(string name, string message)
    {
        var config = new BabelConfig("/run/b.sock", [new BabelInterfaceConfig(name)], []);
        var e = Assert.Throws<ArgumentException>(() => BabelConfigWriter.Write(config));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_UndefinedKeyOrDuplicateInterfaceOrBadCostOrSocket_IsRefusedWithTheReason()
    {
        var ok = new BabelConfig("/run/b.sock", [new BabelInterfaceConfig("a0")], []) { Keys = [Key] };
        Assert.Contains("key 'other', which is not defined", Assert.Throws<ArgumentException>(() =>
            BabelConfigWriter.Write(ok with { DefaultKeyId = "other" })).Message, StringComparison.Ordinal);
        Assert.Contains("listed twice", Assert.Throws<ArgumentException>(() =>
            BabelConfigWriter.Write(ok with { Interfaces = [new("a0"), new("a0")] })).Message, StringComparison.Ordinal);
        Assert.Contains("65535 is Babel's infinity", Assert.Throws<ArgumentException>(() =>
            BabelConfigWriter.Write(ok with { Interfaces = [new("a0") { RxCost = 65535 }] })).Message, StringComparison.Ordinal);
        Assert.Contains("must be absolute", Assert.Throws<ArgumentException>(() =>
            BabelConfigWriter.Write(ok with { ControlSocketPath = "babeld.sock" })).Message, StringComparison.Ordinal);
        Assert.Contains("defined twice", Assert.Throws<ArgumentException>(() =>
            BabelConfigWriter.Write(ok with { Keys = [Key, Key] })).Message, StringComparison.Ordinal);
        Assert.Contains("hello interval", Assert.Throws<ArgumentException>(() =>
            BabelConfigWriter.Write(ok with { HelloInterval = TimeSpan.Zero })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_FractionalHelloInterval_IsWrittenInSeconds()
    {
        var config = new BabelConfig("/run/b.sock", [new BabelInterfaceConfig("a0")], []) { HelloInterval = TimeSpan.FromMilliseconds(250) };
        Assert.Contains("interface a0 type tunnel link-quality true hello-interval 0.25\n", BabelConfigWriter.Write(config), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "00")]
    [InlineData("with space", "00")]
    [InlineData("k", "")]
    [InlineData("k", "abc")]
    [InlineData("k", "zz")]
    public void BabelKey_InvalidIdOrValue_IsRefused(string id, string value) =>
        Assert.Throws<ArgumentException>(() => new BabelKey(id, value));

    [Fact]
    public void BabelKey_LongerThanBabeldAccepts_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => BabelKey.FromBytes("k", new byte[65]));
        Assert.Throws<ArgumentException>(() => BabelKey.FromBytes("k", new byte[33], BabelKeyType.Blake2s128));
        Assert.Equal(128, BabelKey.FromBytes("k", new byte[64]).HexValue.Length);
    }

    [Fact]
    public void BabelKey_ToString_DoesNotRevealTheSecret()
    {
        Assert.DoesNotContain("0011", Key.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("0011", new BabelConfig("/run/b.sock", [], []) { Keys = [Key] }.Keys[0].ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ForNode_InterfacesForASubMeshTheNodeIsNotIn_AreRefused()
    {
        var (plan, _) = BridgeNode();
        var e = Assert.Throws<ArgumentException>(() => BabelConfig.ForNode(
            plan, new Dictionary<string, IReadOnlyList<string>> { ["no-such-sub-mesh"] = ["x0"] }, "/run/b.sock", Key, TimeSpan.FromSeconds(1)));
        Assert.Contains("not a member", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The first bridge of a deterministic order-2 plan of 30 nodes, with two pool interfaces per membership.</summary>
    private static (NodePlan Plan, Dictionary<string, IReadOnlyList<string>> Interfaces) BridgeNode()
    {
        var layout = new MeshLayout
        {
            Ipv6Range = IpPrefix.Parse("fd00:1::/48"),
            Ipv4Range = IpPrefix.Parse("10.42.0.0/16"),
            Order = 2,
            SubMeshes = [4],
        };
        var nodes = Enumerable.Range(0, 30).Select(i => NodeInfo.Named($"node-{i:00}")).ToList();
        var mesh = MeshPlanner.Plan(layout, nodes, null, false, new Xoshiro256StarStar(7));
        var bridge = nodes.Select(n => mesh.NodePlanFor(n.Name)).First(p => p.IsBridge);
        var interfaces = bridge.Memberships
            .Select((m, k) => (m.SubMesh, Names: (IReadOnlyList<string>)[$"re6st-m{k}a0", $"re6st-m{k}a1"]))
            .ToDictionary(x => x.SubMesh, x => x.Names);
        return (bridge, interfaces);
    }
}
