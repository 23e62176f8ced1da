using k8s.Models;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Reconcile;

/// <summary>One host's plan as the MeshNode the operator writes for it.</summary>
public static class MeshNodeBuilder
{
    public static V1Alpha1MeshNode Build(string mesh, NodePlan plan, NodeInfo node, PolicySpecResource policy, TimeSpan helloInterval, string keySecret)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(node);
        var labels = new Dictionary<string, string>
        {
            [Group.MeshLabel] = mesh,
            [Group.NodeLabel] = plan.Name,
        };
        foreach (var m in plan.Memberships)
        {
            labels[Group.SubMeshLabelPrefix + m.SubMesh] = m.Role == MembershipRole.Home ? "home" : "bridge";
        }

        return new V1Alpha1MeshNode
        {
            Metadata = new V1ObjectMeta { Name = V1Alpha1MeshNode.NameFor(plan.Name, mesh), Labels = labels },
            Spec = new MeshNodeSpec
            {
                Mesh = mesh,
                Node = plan.Name,
                Role = plan.IsBridge ? "bridge" : "member",
                HomeSubMesh = plan.HomeSubMesh,
                Ipv6Prefix = plan.Ipv6Prefix.ToString(),
                Ipv4Prefix = plan.Ipv4Prefix?.ToString(),
                Memberships = [.. plan.Memberships.Select(m => new MembershipResource
                {
                    SubMesh = m.SubMesh,
                    Role = m.Role == MembershipRole.Home ? "home" : "bridge",
                    BridgeLevel = m.BridgeLevel,
                    Ipv6Range = m.Ipv6Range.ToString(),
                    Ipv4Range = m.Ipv4Range?.ToString(),
                    Announce = [.. m.Announce.Select(a => a.ToString())],
                    DenyOut = [.. m.DenyOut.Select(f => new RouteFilterResource { Prefix = f.Prefix.ToString(), Match = f.Match == FilterMatch.Exact ? "exact" : "moreSpecific" })],
                })],
                Policy = policy,
                Technologies = [.. new[] { TunnelTechnology.WireGuard, TunnelTechnology.OpenVpn }
                    .Where(t => node.Technologies.HasFlag(t))
                    .Select(t => t == TunnelTechnology.WireGuard ? TechnologyName.WireGuard : TechnologyName.OpenVpn)],
                Babel = new MeshNodeBabel { HelloInterval = GoDuration.Format(helloInterval), KeySecret = keySecret },
            },
        };
    }
}
