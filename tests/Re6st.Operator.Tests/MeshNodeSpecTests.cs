using System.Text.Json;
using Re6st.Contracts;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Operator.Reconcile;

namespace Re6st.Operator.Tests;

/// <summary>The MeshNode spec as the agent reads it back: the plan the operator wrote, and what peers need to know of the host.</summary>
public sealed class MeshNodeSpecTests
{
    private static readonly NodePlan Bridge = new(
        "host-a",
        "0",
        IpPrefix.Parse("fd5e:1:0:1::/64"),
        IpPrefix.Parse("10.9.0.1/32"),
        [
            new MembershipPlan("0", MembershipRole.Home, null, IpPrefix.Parse("fd5e:1::/49"), IpPrefix.Parse("10.9.0.0/17"),
                [IpPrefix.Parse("fd5e:1:0:1::/64"), IpPrefix.Parse("10.9.0.1/32")],
                [new RouteFilter(IpPrefix.Parse("fd5e:1::/49"), FilterMatch.Exact)]),
            new MembershipPlan("1", MembershipRole.Bridge, 1, IpPrefix.Parse("fd5e:1:8000::/49"), null,
                [IpPrefix.Parse("fd5e:1::/49")],
                [new RouteFilter(IpPrefix.Parse("fd5e:1::/49"), FilterMatch.MoreSpecific)]),
        ]);

    [Fact]
    public void ToPlan_GivesBackThePlanTheSpecWasBuiltFrom()
    {
        var built = MeshNodeBuilder.Build("m", Bridge, NodeInfo.Named("host-a"), new PolicySpecResource(), TimeSpan.FromSeconds(4), "ns/keys");

        Assert.Equal(JsonSerializer.Serialize(Bridge), JsonSerializer.Serialize(built.Spec.ToPlan()));
    }

    [Fact]
    public void Build_CopiesOnlyTheNodeLabelsThePolicySelectorsRead_AndToNodeInfoGivesThemBack()
    {
        var node = new NodeInfo(
            "host-a",
            new Dictionary<string, string> { ["dc"] = "well-known", ["firewall"] = "strict", ["kubernetes.io/hostname"] = "host-a" },
            2.5,
            TunnelTechnology.WireGuard);
        var policy = new PolicySpecResource
        {
            Preferred = new PreferredResource { Selector = new LabelSelectorResource { MatchLabels = new() { ["dc"] = "well-known" } } },
            TechnologyRules =
            [
                new TechnologyRuleResource
                {
                    Technology = "openvpn",
                    DenyWhen = new LabelSelectorResource { MatchExpressions = [new LabelRequirementResource { Key = "firewall", Operator = "Exists" }] },
                },
            ],
        };

        var peer = MeshNodeBuilder.Build("m", Bridge, node, policy, TimeSpan.FromSeconds(4), "ns/keys").Spec.ToNodeInfo();

        Assert.Equal("host-a", peer.Name);
        Assert.Equal(new Dictionary<string, string> { ["dc"] = "well-known", ["firewall"] = "strict" }, peer.Labels);
        Assert.Equal(2.5, peer.Capacity);
        Assert.Equal(TunnelTechnology.WireGuard, peer.Technologies);
    }

    [Fact]
    public void Build_WithoutSelectors_CopiesNoLabel()
    {
        var node = new NodeInfo("host-a", new Dictionary<string, string> { ["dc"] = "well-known" });

        var spec = MeshNodeBuilder.Build("m", Bridge, node, new PolicySpecResource(), TimeSpan.FromSeconds(4), "ns/keys").Spec;

        Assert.Null(spec.NodeLabels);
        Assert.Empty(spec.ToNodeInfo().Labels);
        Assert.Equal(TunnelTechnology.All, spec.ToNodeInfo().Technologies);
    }
}
