using Re6st.Core.Arrows;
using Re6st.Core.Randomness;

namespace Re6st.Core.Planning;

/// <summary>
/// Rule: in every sub-mesh X that has siblings, a bridgeShare of X's nodes, drawn at random weighted
/// by declared capacity, also join a leaf of a sibling drawn uniformly at random. They announce X's
/// aggregate there and the sibling's aggregate at home: no gateways, no backbone. Bridges are
/// re-drawn over time (a random bridgeRenewShare steps down at each re-election).
/// </summary>
internal sealed class BridgeElection
{
    private readonly SubMeshTree _tree;
    private readonly NodeInfo[] _nodes;
    private readonly int[] _home;
    private readonly IRandomSource _random;
    private readonly List<string> _notes;
    private readonly int[] _counts;
    private readonly Dictionary<int, int[]> _nonEmptyChildren = [];

    private BridgeElection(SubMeshTree tree, NodeInfo[] nodes, int[] home, IRandomSource random, List<string> notes)
    {
        _tree = tree;
        _nodes = nodes;
        _home = home;
        _random = random;
        _notes = notes;
        _counts = new int[tree.Count];
        foreach (var h in home)
        {
            for (var s = h; s >= 0; s = tree.ParentOf(s))
            {
                _counts[s]++;
            }
        }
    }

    public static Bridge[] Elect(SubMeshTree tree, NodeInfo[] nodes, int[] home, PlanState previous, bool reelect, IRandomSource random, List<string> notes)
    {
        if (tree.Order < 2)
        {
            return [];
        }

        var election = new BridgeElection(tree, nodes, home, random, notes);
        var byName = new Dictionary<string, int>(nodes.Length, StringComparer.Ordinal);
        for (var i = 0; i < nodes.Length; i++)
        {
            byName[nodes[i].Name] = i;
        }

        var result = new List<Bridge>();
        for (var level = 1; level < tree.Order; level++)
        {
            var members = election.MembersAtLevel(level);
            var sitting = election.SittingBridges(previous, byName, level);
            for (var k = 0; k < members.Length; k++)
            {
                election.ElectIn(tree.FirstOfLevel(level) + k, level, members[k], sitting, reelect, result);
            }

            election.ConnectSplitSiblings(level, members, result);
        }

        return [.. result];
    }

    private void ElectIn(int x, int level, List<int> members, Dictionary<int, List<(int Node, int Target)>> sitting, bool reelect, List<Bridge> result)
    {
        var layout = _tree.Layout;
        if (members.Count == 0 || NonEmptyChildren(_tree.ParentOf(x)).Length < 2)
        {
            return;
        }

        var want = Math.Min(members.Count, Math.Max(layout.MinBridges, (int)Math.Round(layout.BridgeShare * members.Count, MidpointRounding.AwayFromZero)));
        var chosen = sitting.TryGetValue(x, out var kept) ? kept : [];

        // Re-election: a random share of the sitting bridges steps down (life requires destruction).
        if (reelect)
        {
            chosen = chosen.Where(_ => !_random.Chance(layout.BridgeRenewShare)).ToList();
        }

        if (chosen.Count > want)
        {
            _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(chosen));
            chosen = chosen.Take(want).ToList();
        }

        foreach (var (node, target) in chosen)
        {
            result.Add(new Bridge(node, level, target, BridgeReason.Kept));
        }

        var exclude = chosen.Select(c => c.Node).ToHashSet();
        foreach (var node in WeightedDraw(members, exclude, want - chosen.Count))
        {
            result.Add(new Bridge(node, level, RandomLeafIn(RandomSiblingOf(x)), BridgeReason.Elected));
        }
    }

    /// <summary>Bridges of the previous plan at this level that the current layout and membership still allow.</summary>
    private Dictionary<int, List<(int Node, int Target)>> SittingBridges(PlanState previous, Dictionary<string, int> byName, int level)
    {
        var result = new Dictionary<int, List<(int Node, int Target)>>();
        foreach (var b in previous.Bridges)
        {
            if (b.Level != level || !byName.TryGetValue(b.Node, out var node) || _home[node] < 0)
            {
                continue;
            }

            var target = _tree.Find(b.SubMesh);
            if (target < 0 || !_tree.IsLeaf(target) || _counts[target] == 0)
            {
                continue;
            }

            var x = _tree.AncestorAt(_home[node], level);
            var y = _tree.AncestorAt(target, level);
            if (x == y || _tree.ParentOf(x) != _tree.ParentOf(y))
            {
                continue;
            }

            if (!result.TryGetValue(x, out var forX))
            {
                result[x] = forX = [];
            }

            if (!forX.Exists(k => k.Node == node))
            {
                forX.Add((node, target));
            }
        }

        return result;
    }

    /// <summary>
    /// Weighted sampling without replacement (Efraimidis and Spirakis): key = -ln(u)/capacity, the
    /// smallest keys win. A node declaring capacity 0 is never elected.
    /// </summary>
    private List<int> WeightedDraw(List<int> members, HashSet<int> exclude, int count)
    {
        if (count <= 0)
        {
            return [];
        }

        var keys = new List<(double Key, int Node)>(members.Count);
        foreach (var m in members)
        {
            var capacity = _nodes[m].Capacity;
            if (capacity > 0 && !exclude.Contains(m))
            {
                keys.Add((-Math.Log(1 - _random.NextDouble()) / capacity, m));
            }
        }

        keys.Sort((a, b) => a.Key.CompareTo(b.Key));
        return keys.Take(count).Select(k => k.Node).ToList();
    }

    /// <summary>
    /// Exception (split siblings): if the random draw leaves the children of one parent unable to
    /// reach each other through bridges (only likely in small meshes), one more bridge joins each
    /// stray group to the rest. Bounded by the number of groups minus one per parent.
    /// </summary>
    private void ConnectSplitSiblings(int level, List<int>[] members, List<Bridge> bridges)
    {
        var first = _tree.FirstOfLevel(level);
        var parent = Enumerable.Range(0, _tree.CountOfLevel(level)).ToArray();
        int Find(int a)
        {
            while (parent[a] != a)
            {
                a = parent[a] = parent[parent[a]];
            }

            return a;
        }

        foreach (var b in bridges)
        {
            if (b.Level == level)
            {
                parent[Find(_tree.AncestorAt(_home[b.Node], level) - first)] = Find(_tree.AncestorAt(b.Target, level) - first);
            }
        }

        for (var p = _tree.FirstOfLevel(level - 1); p < _tree.FirstOfLevel(level - 1) + _tree.CountOfLevel(level - 1); p++)
        {
            var nonEmpty = NonEmptyChildren(p);
            if (nonEmpty.Length < 2)
            {
                continue;
            }

            var anchor = nonEmpty[0];
            foreach (var c in nonEmpty)
            {
                if (Find(c - first) == Find(anchor - first))
                {
                    continue;
                }

                // Same capacity-weighted draw as the rule: a node declaring capacity 0 never bridges.
                var drawn = WeightedDraw(members[c - first], [], 1);
                if (drawn.Count == 0)
                {
                    _notes.Add($"sub-mesh {_tree.IdOf(c)} cannot reach {_tree.IdOf(anchor)}: none of its nodes may be a bridge (all declare capacity 0)");
                    continue;
                }

                bridges.Add(new Bridge(drawn[0], level, RandomLeafIn(anchor), BridgeReason.ConnectSplit));
                parent[Find(c - first)] = Find(anchor - first);
                _notes.Add($"sub-mesh {_tree.IdOf(c)} could not reach {_tree.IdOf(anchor)} through elected bridges; a bridge was added");
            }
        }
    }

    /// <summary>A uniformly random non-empty sibling of x.</summary>
    private int RandomSiblingOf(int x)
    {
        var siblings = NonEmptyChildren(_tree.ParentOf(x));
        int pick;
        do
        {
            pick = siblings[_random.NextInt(siblings.Length)];
        }
        while (pick == x);
        return pick;
    }

    /// <summary>A random non-empty leaf inside a sub-mesh, uniform at each level down.</summary>
    private int RandomLeafIn(int subMesh)
    {
        while (!_tree.IsLeaf(subMesh))
        {
            var nonEmpty = NonEmptyChildren(subMesh);
            subMesh = nonEmpty[_random.NextInt(nonEmpty.Length)];
        }

        return subMesh;
    }

    private int[] NonEmptyChildren(int subMesh)
    {
        if (!_nonEmptyChildren.TryGetValue(subMesh, out var children))
        {
            var (first, count) = _tree.ChildrenOf(subMesh);
            children = [.. Enumerable.Range(first, count).Where(c => _counts[c] > 0)];
            _nonEmptyChildren[subMesh] = children;
        }

        return children;
    }

    /// <summary>For each sub-mesh of a level, the nodes whose home is inside it.</summary>
    private List<int>[] MembersAtLevel(int level)
    {
        var result = new List<int>[_tree.CountOfLevel(level)];
        for (var k = 0; k < result.Length; k++)
        {
            result[k] = [];
        }

        for (var i = 0; i < _home.Length; i++)
        {
            if (_home[i] >= 0)
            {
                result[_tree.AncestorAt(_home[i], level) - _tree.FirstOfLevel(level)].Add(i);
            }
        }

        return result;
    }
}
