using Re6st.Core.Addressing;
using Re6st.Core.Planning;

namespace Re6st.Simulation.Routing;

/// <summary>
/// The prefixes a node's Babel holds once converged, from the plan alone: for each sub-mesh it
/// speaks in, the specific prefixes of that sub-mesh's home members, and, at every level above,
/// one aggregate per non-empty sibling. Assumes each leaf is connected inside and bridges join
/// siblings (the planner guarantees the latter; <see cref="RoutePropagation"/> checks it all on
/// real arrows).
/// </summary>
public sealed class RoutingTableModel
{
    private readonly MeshPlan _plan;
    private readonly int[] _nonEmptyChildren;
    private readonly int[] _aggregatesSeenFromLeaf;

    public RoutingTableModel(MeshPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        _plan = plan;
        var tree = plan.Tree;
        _nonEmptyChildren = new int[tree.Count];
        for (var s = 1; s < tree.Count; s++)
        {
            if (plan.CountUnder(s) > 0)
            {
                _nonEmptyChildren[tree.ParentOf(s)]++;
            }
        }

        _aggregatesSeenFromLeaf = new int[tree.LeafCount];
        for (var leaf = tree.FirstLeaf; leaf < tree.Count; leaf++)
        {
            var n = 0;
            for (var s = leaf; tree.LevelOf(s) >= 1; s = tree.ParentOf(s))
            {
                // Siblings of s: the non-empty children of its parent, less s itself when it is non-empty.
                n += _nonEmptyChildren[tree.ParentOf(s)] - (plan.CountUnder(s) > 0 ? 1 : 0);
            }

            _aggregatesSeenFromLeaf[leaf - tree.FirstLeaf] = n;
        }
    }

    /// <summary>Theoretical table size for N nodes in an order-K mesh: K·N^(1/K).</summary>
    public static double Theory(long nodes, int order) => order * Math.Pow(nodes, 1.0 / order);

    public int EntryCount(int node)
    {
        if (!_plan.IsPlaced(node))
        {
            return 0;
        }

        var memberships = _plan.MembershipsOf(node);
        if (memberships.Length == 1)
        {
            var leaf = memberships[0];
            return _plan.CountUnder(leaf) + _aggregatesSeenFromLeaf[leaf - _plan.Tree.FirstLeaf];
        }

        var specifics = memberships.Distinct().Sum(_plan.CountUnder);
        return specifics + AggregatesOf(memberships).Count;
    }

    /// <summary>Entry counts of every node, computed in parallel.</summary>
    public int[] EntryCounts()
    {
        var counts = new int[_plan.NodeCount];
        Parallel.For(0, counts.Length, i => counts[i] = EntryCount(i));
        return counts;
    }

    public IReadOnlyList<IpPrefix> Entries(int node, IpFamily family = IpFamily.V6)
    {
        var memberships = _plan.MembershipsOf(node);
        var result = new List<IpPrefix>();
        foreach (var leaf in memberships.Distinct())
        {
            foreach (var member in _plan.HomeMembers(leaf))
            {
                result.Add(_plan.PrefixOf(member, family));
            }
        }

        foreach (var aggregate in AggregatesOf(memberships))
        {
            result.Add(_plan.Tree.RangeOf(aggregate, family));
        }

        result.Sort();
        return result;
    }

    /// <summary>Tree nodes whose aggregate a node with these memberships holds.</summary>
    private HashSet<int> AggregatesOf(int[] memberships)
    {
        var tree = _plan.Tree;
        var set = new HashSet<int>();
        foreach (var leaf in memberships)
        {
            for (var s = leaf; tree.LevelOf(s) >= 1; s = tree.ParentOf(s))
            {
                var (first, count) = tree.ChildrenOf(tree.ParentOf(s));
                for (var c = first; c < first + count; c++)
                {
                    if (c != s && _plan.CountUnder(c) > 0)
                    {
                        set.Add(c);
                    }
                }
            }
        }

        return set;
    }
}
