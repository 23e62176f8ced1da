using Re6st.Core.Addressing;
using Re6st.Core.Arrows;

namespace Re6st.Core.Planning;

/// <summary>
/// The result of <see cref="MeshPlanner.Plan"/>: every node's home leaf and prefix slot, the bridges,
/// and derived views (members of a sub-mesh, one node's <see cref="NodePlan"/>). Kept as flat arrays
/// so a million-node plan stays small.
/// </summary>
public sealed class MeshPlan
{
    private readonly int[] _home;
    private readonly long[] _slot;
    private readonly Bridge[] _bridges;
    private readonly int[] _bridgeStart;
    private readonly int[] _leafStart;
    private readonly int[] _leafMembers;
    private readonly int[] _visitStart;
    private readonly int[] _visitors;
    private readonly int[] _subtreeCount;
    private Dictionary<string, int>? _byName;

    internal MeshPlan(SubMeshTree tree, NodeInfo[] nodes, int[] home, long[] slot, Bridge[] bridges, IReadOnlyList<string> notes, IReadOnlyList<string> errors)
    {
        Tree = tree;
        Nodes = nodes;
        _home = home;
        _slot = slot;
        Notes = notes;
        Errors = errors;

        Array.Sort(bridges, (a, b) => a.Node != b.Node ? a.Node.CompareTo(b.Node) : a.Level.CompareTo(b.Level));
        _bridges = bridges;
        _bridgeStart = new int[nodes.Length + 1];
        foreach (var b in bridges)
        {
            _bridgeStart[b.Node + 1]++;
        }

        for (var i = 0; i < nodes.Length; i++)
        {
            _bridgeStart[i + 1] += _bridgeStart[i];
        }

        (_leafStart, _leafMembers) = Group(tree.LeafCount, nodes.Length, i => home[i] < 0 ? -1 : home[i] - tree.FirstLeaf, i => slot[i]);
        (_visitStart, _visitors) = Group(tree.LeafCount, bridges.Length, k => bridges[k].Target - tree.FirstLeaf, k => bridges[k].Node);
        for (var k = 0; k < _visitors.Length; k++)
        {
            _visitors[k] = bridges[_visitors[k]].Node;
        }

        _subtreeCount = new int[tree.Count];
        for (var leaf = tree.FirstLeaf; leaf < tree.Count; leaf++)
        {
            var n = HomeMembers(leaf).Length;
            for (var s = leaf; s >= 0; s = tree.ParentOf(s))
            {
                _subtreeCount[s] += n;
            }
        }
    }

    public SubMeshTree Tree { get; }

    public MeshLayout Layout => Tree.Layout;

    public IReadOnlyList<NodeInfo> Nodes { get; }

    public IReadOnlyList<Bridge> Bridges => _bridges;

    /// <summary>Things a user should know (e.g. a node renumbered because the layout changed).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Problems that left nodes without a place (e.g. the range is exhausted).</summary>
    public IReadOnlyList<string> Errors { get; }

    public int NodeCount => _home.Length;

    public int IndexOf(string name)
    {
        _byName ??= Enumerable.Range(0, Nodes.Count).ToDictionary(i => Nodes[i].Name, StringComparer.Ordinal);
        return _byName.TryGetValue(name, out var i) ? i : -1;
    }

    /// <summary>Home leaf (tree index), or -1 for a node that could not be placed.</summary>
    public int HomeOf(int node) => _home[node];

    public long SlotOf(int node) => _slot[node];

    public bool IsPlaced(int node) => _home[node] >= 0;

    public IpPrefix Ipv6PrefixOf(int node) =>
        Tree.Ipv6RangeOf(_home[node]).Subprefix((UInt128)_slot[node], Layout.Ipv6NodePrefixLength);

    public IpPrefix? Ipv4PrefixOf(int node) =>
        Tree.Ipv4RangeOf(_home[node]) is { } range ? range.Subprefix((UInt128)_slot[node], Layout.Ipv4NodePrefixLength) : null;

    public IpPrefix PrefixOf(int node, IpFamily family) =>
        family == IpFamily.V6 ? Ipv6PrefixOf(node) : Ipv4PrefixOf(node) ?? throw new InvalidOperationException("the mesh has no IPv4 range");

    /// <summary>Nodes whose home is this leaf, by prefix slot.</summary>
    public ReadOnlySpan<int> HomeMembers(int leaf) =>
        _leafMembers.AsSpan(_leafStart[leaf - Tree.FirstLeaf], _leafStart[leaf - Tree.FirstLeaf + 1] - _leafStart[leaf - Tree.FirstLeaf]);

    /// <summary>Bridges from elsewhere that also joined this leaf.</summary>
    public ReadOnlySpan<int> Visitors(int leaf) =>
        _visitors.AsSpan(_visitStart[leaf - Tree.FirstLeaf], _visitStart[leaf - Tree.FirstLeaf + 1] - _visitStart[leaf - Tree.FirstLeaf]);

    /// <summary>Every node whose Babel speaks in this leaf: home members then visiting bridges.</summary>
    public int[] MembersOf(int leaf) => [.. HomeMembers(leaf), .. Visitors(leaf)];

    /// <summary>Nodes whose home is in the subtree of this tree node.</summary>
    public int CountUnder(int subMesh) => _subtreeCount[subMesh];

    public ReadOnlySpan<Bridge> BridgeRolesOf(int node) => _bridges.AsSpan(_bridgeStart[node], _bridgeStart[node + 1] - _bridgeStart[node]);

    public int MembershipCount(int node) => _home[node] < 0 ? 0 : 1 + _bridgeStart[node + 1] - _bridgeStart[node];

    /// <summary>The k-th leaf this node belongs to (0: its home), without allocating.</summary>
    public int MembershipAt(int node, int k) => k == 0 ? _home[node] : _bridges[_bridgeStart[node] + k - 1].Target;

    /// <summary>The leaves this node belongs to: its home first, then one per bridge role.</summary>
    public int[] MembershipsOf(int node)
    {
        if (_home[node] < 0)
        {
            return [];
        }

        var roles = BridgeRolesOf(node);
        var result = new int[1 + roles.Length];
        result[0] = _home[node];
        for (var i = 0; i < roles.Length; i++)
        {
            result[i + 1] = roles[i].Target;
        }

        return result;
    }

    /// <summary>
    /// Out-filters for <paramref name="node"/>'s interfaces in <paramref name="membership"/>, given all
    /// of its memberships. Empty for a node with a single membership: its routes all belong there.
    /// </summary>
    public void FiltersInto(int membership, ReadOnlySpan<int> memberships, IpFamily family, List<RouteFilter> deny, List<IpPrefix> announce)
    {
        if (memberships.Length < 2)
        {
            return;
        }

        foreach (var other in memberships)
        {
            if (other == membership)
            {
                continue;
            }

            // The other side is summarized by one aggregate here: announce it, deny what is inside.
            var aggregate = Tree.RangeOf(Tree.AggregateFor(other, membership), family);
            if (!announce.Contains(aggregate))
            {
                announce.Add(aggregate);
                deny.Add(new RouteFilter(aggregate, FilterMatch.MoreSpecific));
            }
        }

        // Never import an aggregate that covers this sub-mesh itself (it would point away from it).
        for (var s = membership; Tree.LevelOf(s) >= 1; s = Tree.ParentOf(s))
        {
            deny.Add(new RouteFilter(Tree.RangeOf(s, family), FilterMatch.Exact));
        }
    }

    public NodePlan NodePlanFor(string name)
    {
        var i = IndexOf(name);
        return i >= 0 ? NodePlanFor(i) : throw new KeyNotFoundException($"node '{name}' is not in the plan");
    }

    public NodePlan NodePlanFor(int node)
    {
        if (_home[node] < 0)
        {
            throw new InvalidOperationException($"node '{Nodes[node].Name}' has no place in the plan: {string.Join("; ", Errors)}");
        }

        var memberships = MembershipsOf(node);
        var roles = BridgeRolesOf(node);
        var families = Layout.Ipv4Range is null ? new[] { IpFamily.V6 } : [IpFamily.V6, IpFamily.V4];
        var plans = new List<MembershipPlan>(memberships.Length);
        for (var k = 0; k < memberships.Length; k++)
        {
            var m = memberships[k];
            var announce = new List<IpPrefix>();
            var deny = new List<RouteFilter>();
            if (k == 0)
            {
                announce.Add(Ipv6PrefixOf(node));
                if (Ipv4PrefixOf(node) is { } v4)
                {
                    announce.Add(v4);
                }
            }

            foreach (var family in families)
            {
                FiltersInto(m, memberships, family, deny, announce);
            }

            plans.Add(new MembershipPlan(
                Tree.IdOf(m),
                k == 0 ? MembershipRole.Home : MembershipRole.Bridge,
                k == 0 ? null : roles[k - 1].Level,
                Tree.Ipv6RangeOf(m),
                Tree.Ipv4RangeOf(m),
                announce,
                deny));
        }

        return new NodePlan(Nodes[node].Name, Tree.IdOf(_home[node]), Ipv6PrefixOf(node), Ipv4PrefixOf(node), plans, Layout.Pods?.RangesOf(Layout, Ipv6PrefixOf(node), Ipv4PrefixOf(node)));
    }

    /// <summary>What to persist so the next plan keeps every allocation and bridge.</summary>
    public PlanState ToState()
    {
        var nodes = new Dictionary<string, NodeAllocation>(StringComparer.Ordinal);
        for (var i = 0; i < _home.Length; i++)
        {
            if (_home[i] >= 0)
            {
                nodes[Nodes[i].Name] = new NodeAllocation(Tree.IdOf(_home[i]), Ipv6PrefixOf(i), Ipv4PrefixOf(i));
            }
        }

        return new PlanState
        {
            Nodes = nodes,
            Bridges = [.. _bridges.Select(b => new BridgeAssignment(Nodes[b.Node].Name, b.Level, Tree.IdOf(b.Target)))],
        };
    }

    /// <summary>Counting sort of items into buckets (CSR), ordered by a key within each bucket.</summary>
    private static (int[] Start, int[] Items) Group(int buckets, int count, Func<int, int> bucketOf, Func<int, long> keyOf)
    {
        var start = new int[buckets + 1];
        for (var i = 0; i < count; i++)
        {
            var b = bucketOf(i);
            if (b >= 0)
            {
                start[b + 1]++;
            }
        }

        for (var b = 0; b < buckets; b++)
        {
            start[b + 1] += start[b];
        }

        var items = new int[start[buckets]];
        var next = (int[])start.Clone();
        for (var i = 0; i < count; i++)
        {
            var b = bucketOf(i);
            if (b >= 0)
            {
                items[next[b]++] = i;
            }
        }

        for (var b = 0; b < buckets; b++)
        {
            var span = items.AsSpan(start[b], start[b + 1] - start[b]);
            if (span.Length > 1)
            {
                var keys = new long[span.Length];
                for (var k = 0; k < span.Length; k++)
                {
                    keys[k] = keyOf(span[k]);
                }

                keys.AsSpan().Sort(span);
            }
        }

        return (start, items);
    }
}
