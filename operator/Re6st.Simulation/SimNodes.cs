using Re6st.Core.Arrows;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Simulation;

/// <summary>
/// Synthetic hosts: a region label (which the policy must never read: only crises and the
/// region-grouped comparison mesh use it), a declared capacity, and a small share labelled as
/// sitting behind a firewall that drops OpenVPN, so the technology rule is exercised.
/// </summary>
public static class SimNodes
{
    public const string RegionLabel = "topology.kubernetes.io/region";
    public const string FilteredLabel = "re6st.io/openvpn-filtered";
    public const double FilteredShare = 0.05;

    public static readonly string[] RegionNames =
        ["eu-west", "eu-central", "us-east", "us-west", "sa-east", "af-south", "ap-south", "ap-northeast", "ap-southeast", "me-central", "ca-central", "oc-east"];

    /// <summary>The rule every simulated mesh runs with: no OpenVPN where a host is filtered.</summary>
    public static RandomizationPolicy Policy(int arrowsPerNode) => RandomizationPolicy.Default with
    {
        ArrowsPerNode = arrowsPerNode,
        TechnologyRules = [new TechnologyRule(TunnelTechnology.OpenVpn, LabelSelector.MatchLabels((FilteredLabel, "true")))],
    };

    public static (NodeInfo[] Nodes, int[] Region) Generate(int count, int regions, ulong seed)
    {
        regions = Math.Clamp(regions, 1, RegionNames.Length);
        var random = Xoshiro256StarStar.ForStream(seed, 0x6e6f646573);
        var labels = new IReadOnlyDictionary<string, string>[regions * 2];
        for (var r = 0; r < regions; r++)
        {
            labels[2 * r] = new Dictionary<string, string> { [RegionLabel] = RegionNames[r] };
            labels[(2 * r) + 1] = new Dictionary<string, string> { [RegionLabel] = RegionNames[r], [FilteredLabel] = "true" };
        }

        var nodes = new NodeInfo[count];
        var region = new int[count];
        var width = count.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        for (var i = 0; i < count; i++)
        {
            // Regions have unequal sizes, as real deployments do: weight r+1.
            var r = WeightedRegion(random, regions);
            var filtered = random.Chance(FilteredShare);
            var capacity = Math.Pow(2, random.NextInt(4));
            region[i] = r;
            nodes[i] = new NodeInfo("h" + i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width, '0'), labels[(2 * r) + (filtered ? 1 : 0)], capacity);
        }

        return (nodes, region);
    }

    private static int WeightedRegion(IRandomSource random, int regions)
    {
        var total = regions * (regions + 1) / 2;
        var pick = random.NextInt(total);
        for (var r = 0; r < regions; r++)
        {
            pick -= r + 1;
            if (pick < 0)
            {
                return r;
            }
        }

        return regions - 1;
    }
}
