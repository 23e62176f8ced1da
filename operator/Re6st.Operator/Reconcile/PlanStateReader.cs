using Re6st.Core.Addressing;
using Re6st.Core.Planning;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Reconcile;

/// <summary>
/// The MeshNodes themselves are where allocations persist: each carries its node's sub-mesh,
/// prefixes and bridge roles, so a restarted operator (or a new leader) plans from them and
/// renumbers nobody.
/// </summary>
public static class PlanStateReader
{
    public static PlanState Read(IEnumerable<V1Alpha1MeshNode> meshNodes)
    {
        ArgumentNullException.ThrowIfNull(meshNodes);
        var nodes = new Dictionary<string, NodeAllocation>(StringComparer.Ordinal);
        var bridges = new List<BridgeAssignment>();
        foreach (var mn in meshNodes)
        {
            var spec = mn.Spec;
            if (string.IsNullOrEmpty(spec.Node) || !IpPrefix.TryParse(spec.Ipv6Prefix, out var v6, out _))
            {
                continue;
            }

            IpPrefix? v4 = IpPrefix.TryParse(spec.Ipv4Prefix, out var p4, out _) ? p4 : null;
            nodes[spec.Node] = new NodeAllocation(spec.HomeSubMesh, v6, v4);
            foreach (var m in spec.Memberships)
            {
                if (m.Role == "bridge" && m.BridgeLevel is { } level)
                {
                    bridges.Add(new BridgeAssignment(spec.Node, level, m.SubMesh));
                }
            }
        }

        return new PlanState { Nodes = nodes, Bridges = bridges };
    }
}
