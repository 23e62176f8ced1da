using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;
using Re6st.Simulation.Routing;

namespace Re6st.Simulation;

/// <summary>A whole simulated mesh: its sub-meshes' arrows and, on demand, the global arrow graph.</summary>
public sealed class SimMesh
{
    private ArrowGraph? _graph;
    private long _frozenArrowCount = -1;

    private SimMesh(int nodeCount, SubMeshArrows[] parts, SelectionCounts selected)
    {
        NodeCount = nodeCount;
        Parts = parts;
        Selected = selected;
    }

    public int NodeCount { get; }

    /// <summary>The arrows by sub-mesh; empty once <see cref="Freeze"/> kept only the graph.</summary>
    public SubMeshArrows[] Parts { get; private set; }

    public SelectionCounts Selected { get; }

    public long ArrowCount => _frozenArrowCount >= 0 ? _frozenArrowCount : Parts.Sum(p => (long)p.Arrows.Count);

    public ArrowGraph Graph => _graph ??= BuildGraph(withSubMeshes: true);

    public void Invalidate()
    {
        if (_frozenArrowCount >= 0)
        {
            throw new InvalidOperationException("a frozen mesh has no arrows left to change");
        }

        _graph = null;
    }

    /// <summary>
    /// For a comparison mesh that will not change: keeps a light graph (no sub-mesh per arrow)
    /// and drops the per-sub-mesh arrows, which is most of its memory.
    /// </summary>
    public SimMesh Freeze()
    {
        _graph ??= BuildGraph(withSubMeshes: false);
        _frozenArrowCount = ArrowCount;
        Parts = [];
        return this;
    }

    /// <summary>The n-order mesh of a plan: every leaf's members (home and visiting bridges) draw their arrows there.</summary>
    public static SimMesh ForPlan(MeshPlan plan, RandomizationPolicy policy, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var tree = plan.Tree;
        var parts = new SubMeshArrows[tree.LeafCount];
        var counts = new SelectionCounts[tree.LeafCount];
        Parallel.For(0, tree.LeafCount, l =>
        {
            var leaf = tree.FirstLeaf + l;
            var members = plan.MembersOf(leaf);
            var part = new SubMeshArrows(leaf, members, new MemberSet(members.Select(m => plan.Nodes[m])));
            counts[l] = part.Fill(policy, Xoshiro256StarStar.ForStream(seed, 0x6172726f7773, (ulong)leaf));
            parts[l] = part;
        });
        return new SimMesh(plan.NodeCount, parts, Sum(counts));
    }

    /// <summary>A flat (order 1) random mesh over the same nodes, for comparison.</summary>
    public static SimMesh Flat(IReadOnlyList<NodeInfo> nodes, RandomizationPolicy policy, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var part = new SubMeshArrows(0, [.. Enumerable.Range(0, nodes.Count)], new MemberSet(nodes));
        var counts = part.Fill(policy, Xoshiro256StarStar.ForStream(seed, 0x666c6174));
        return new SimMesh(nodes.Count, [part], counts);
    }

    /// <summary>
    /// The "wrong idea" a careful operator might build by hand: arrows only inside each region, and
    /// a few chosen inter-region links between each region's two highest-capacity hosts (gateways),
    /// every gateway linked to every other region's gateways.
    /// </summary>
    public static SimMesh RegionGrouped(IReadOnlyList<NodeInfo> nodes, int[] region, RandomizationPolicy policy, ulong seed, int gatewaysPerRegion = 2)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(region);
        var regions = region.Length == 0 ? 0 : region.Max() + 1;
        var byRegion = Enumerable.Range(0, regions).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < region.Length; i++)
        {
            byRegion[region[i]].Add(i);
        }

        var parts = new SubMeshArrows[regions + 1];
        var counts = new SelectionCounts[regions];
        Parallel.For(0, regions, r =>
        {
            var members = byRegion[r].ToArray();
            var part = new SubMeshArrows(0, members, new MemberSet(members.Select(m => nodes[m])));
            counts[r] = part.Fill(policy, Xoshiro256StarStar.ForStream(seed, 0x67726f7570, (ulong)r));
            parts[r] = part;
        });

        var gateways = byRegion
            .Select(list => list.OrderByDescending(i => nodes[i].Capacity).ThenBy(i => i).Take(gatewaysPerRegion).ToArray())
            .ToArray();
        var all = gateways.SelectMany(g => g).ToArray();
        var index = all.Select((node, k) => (node, k)).ToDictionary(p => p.node, p => p.k);
        var links = new SubMeshArrows(0, all, new MemberSet(all.Select(m => nodes[m])));
        for (var a = 0; a < regions; a++)
        {
            for (var b = a + 1; b < regions; b++)
            {
                foreach (var ga in gateways[a])
                {
                    foreach (var gb in gateways[b])
                    {
                        links.Add(index[ga], index[gb]);
                    }
                }
            }
        }

        parts[regions] = links;
        return new SimMesh(nodes.Count, parts, Sum(counts));
    }

    private ArrowGraph BuildGraph(bool withSubMeshes) =>
        ArrowGraph.Build(NodeCount, add =>
        {
            foreach (var part in Parts)
            {
                foreach (var (from, to) in part.Arrows)
                {
                    add(new Arrow(part.Members[from], part.Members[to], part.SubMesh));
                }
            }
        }, withSubMeshes);

    private static SelectionCounts Sum(SelectionCounts[] counts)
    {
        var total = new SelectionCounts();
        foreach (var c in counts)
        {
            total.Add(c);
        }

        return total;
    }
}
