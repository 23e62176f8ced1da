using System.Globalization;
using k8s.Models;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;

namespace Re6st.Operator.Reconcile;

/// <summary>What a Kubernetes Node declares to re6st through its labels.</summary>
public static class NodeLabels
{
    /// <summary>Weight of the node in bridge elections (a number ≥ 0; 0: never a bridge). Default 1.</summary>
    public const string Capacity = "re6st.io/capacity";

    /// <summary>Comma-separated tunnel technologies the host runs ("wireguard,openvpn"). Default: all.</summary>
    public const string Technologies = "re6st.io/technologies";

    public static NodeInfo ToNodeInfo(V1Node node, TunnelTechnology meshTechnologies, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(problems);
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        var name = node.Metadata.Name;
        double capacity = 1;
        if (labels.TryGetValue(Capacity, out var c)
            && (!double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out capacity) || capacity < 0 || double.IsNaN(capacity) || double.IsInfinity(capacity)))
        {
            problems.Add($"node {name}: label {Capacity}='{c}' is not a number ≥ 0; using 1");
            capacity = 1;
        }

        var technologies = TunnelTechnology.All;
        if (labels.TryGetValue(Technologies, out var t))
        {
            technologies = TunnelTechnology.None;
            foreach (var part in t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (TunnelTechnologyNames.TryParse(part, out var one))
                {
                    technologies |= one;
                }
                else
                {
                    problems.Add($"node {name}: label {Technologies} names unknown technology '{part}'");
                }
            }
        }

        return new NodeInfo(name, new Dictionary<string, string>(labels), capacity, technologies & meshTechnologies);
    }
}
