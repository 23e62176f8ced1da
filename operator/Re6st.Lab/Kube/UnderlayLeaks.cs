using System.Globalization;
using System.Text.RegularExpressions;
using Re6st.Lab.Netns;

namespace Re6st.Lab.Kube;

/// <summary>
/// Counts, on every node, the packets that leave by the underlay with a mesh address inside (pod
/// or host, either end, either family): packets in clear that should have travelled in an arrow.
/// An nft table of the lab's own in each node's network namespace, after the hosts' NAT (priority
/// 300), so masqueraded packets (pods to the API server) are seen with the node's address; the
/// arrows, the pod bridge and its veths, and loopback are not the underlay.
/// </summary>
public sealed partial class UnderlayLeaks
{
    public const string Table = "re6st-lab-leaks";

    private readonly NetnsLab _lab;
    private readonly IReadOnlyList<KubeNode> _nodes;

    private UnderlayLeaks(NetnsLab lab, IReadOnlyList<KubeNode> nodes)
    {
        _lab = lab;
        _nodes = nodes;
    }

    /// <summary>Starts counting on every node of <paramref name="cluster"/> (the mesh's ranges as the lab's values give them).</summary>
    public static async Task<UnderlayLeaks> StartAsync(RealCluster cluster, string ipv6Range, string ipv4Range)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var script = $$"""
            table inet {{Table}} {
              chain out {
                type filter hook postrouting priority 300; policy accept;
                oifname "re6*" accept
                oifname "veth*" accept
                oifname "lo" accept
                ip saddr {{ipv4Range}} counter
                ip daddr {{ipv4Range}} counter
                ip6 saddr {{ipv6Range}} counter
                ip6 daddr {{ipv6Range}} counter
              }
            }
            """;
        foreach (var node in cluster.Nodes)
        {
            await cluster.Lab.InAsync(node.Host, "sh", "-c", $"nft delete table inet {Table} 2>/dev/null; printf '%s\\n' \"$0\" | nft -f -", script);
        }

        return new UnderlayLeaks(cluster.Lab, cluster.Nodes);
    }

    /// <summary>Packets counted so far, per node (nodes with none left out).</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountAsync()
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var node in _nodes)
        {
            var listing = (await _lab.InAsync(node.Host, "nft", "list", "table", "inet", Table)).Output;
            var packets = Packets().Matches(listing).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            if (packets > 0)
            {
                counts[node.Host.Name] = packets;
            }
        }

        return counts;
    }

    /// <summary>Removes the counters from every node.</summary>
    public async Task StopAsync()
    {
        foreach (var node in _nodes)
        {
            await _lab.InAsync(node.Host, "sh", "-c", $"nft delete table inet {Table} 2>/dev/null || true");
        }
    }

    [GeneratedRegex(@"counter packets (\d+)")]
    private static partial Regex Packets();
}
