using k8s.Models;
using Re6st.Contracts;
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
            labels[Group.SubMeshLabelPrefix + m.SubMesh] = m.Role == MembershipRole.Home ? MembershipResource.HomeRole : MembershipResource.BridgeRole;
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
                Memberships = [.. plan.Memberships.Select(MembershipResource.FromCore)],
                Policy = policy,
                Technologies = TechnologyNames.FromCore(node.Technologies),
                Capacity = node.Capacity,
                NodeLabels = SelectedLabels(node, policy),
                Babel = new MeshNodeBabel { HelloInterval = GoDuration.Format(helloInterval), KeySecret = keySecret },
                PodNetwork = plan.Pods is { } pods ? MeshNodePodNetwork.FromCore(pods) : null,
            },
        };
    }

    /// <summary>
    /// Only the labels the policy's selectors read: peers match this host against them, and a
    /// label nothing selects on must not rewrite every MeshNode of the mesh when it changes.
    /// </summary>
    private static Dictionary<string, string>? SelectedLabels(NodeInfo node, PolicySpecResource policy)
    {
        var labels = policy.SelectorKeys()
            .Where(node.Labels.ContainsKey)
            .ToDictionary(k => k, k => node.Labels[k], StringComparer.Ordinal);
        return labels.Count > 0 ? labels : null;
    }
}
