using Re6st.Core.Arrows;
using Re6st.Core.Randomness;

namespace Re6st.Core.Planning;

/// <summary>
/// The n-order plan: nodes go to leaf sub-meshes at random (never by region, provider or usage),
/// each gets the next free prefix of its leaf, and bridges are elected at random weighted by
/// capacity. Previous allocations are kept, so joins and leaves renumber nobody else.
/// </summary>
public static class MeshPlanner
{
    public static MeshPlan Plan(MeshLayout layout, IReadOnlyList<NodeInfo> nodes, PlanState? previous, bool reelectBridges, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(random);
        previous ??= PlanState.Empty;

        var all = nodes.ToArray();
        var names = new HashSet<string>(all.Length, StringComparer.Ordinal);
        foreach (var n in all)
        {
            if (!names.Add(n.Name))
            {
                throw new ArgumentException($"node '{n.Name}' is listed more than once", nameof(nodes));
            }
        }

        var tree = new SubMeshTree(layout);
        var notes = new List<string>();
        var errors = new List<string>();
        var home = new int[all.Length];
        var slot = new long[all.Length];
        Array.Fill(home, -1);

        var slots = new LeafSlots[tree.LeafCount];
        for (var l = 0; l < slots.Length; l++)
        {
            slots[l] = new LeafSlots(layout.SlotsPerLeaf);
        }

        KeepPreviousAllocations(tree, all, previous, home, slot, slots, notes);
        PlaceNewNodes(tree, all, home, slot, slots, random, errors);
        foreach (var s in slots)
        {
            s.Seal();
        }

        var bridges = BridgeElection.Elect(tree, all, home, previous, reelectBridges, random, notes);
        return new MeshPlan(tree, all, home, slot, bridges, notes, errors);
    }

    /// <summary>A node keeps its leaf and prefix whenever the current layout still holds them.</summary>
    private static void KeepPreviousAllocations(SubMeshTree tree, NodeInfo[] nodes, PlanState previous, int[] home, long[] slot, LeafSlots[] slots, List<string> notes)
    {
        var layout = tree.Layout;

        // Name order makes the rare conflict (two nodes claiming one prefix) resolve the same way every time.
        if (previous.Nodes.Count == 0)
        {
            return;
        }

        foreach (var i in Enumerable.Range(0, nodes.Length).Where(i => previous.Nodes.ContainsKey(nodes[i].Name)).OrderBy(i => nodes[i].Name, StringComparer.Ordinal))
        {
            var old = previous.Nodes[nodes[i].Name];

            var leaf = tree.Find(old.SubMesh);
            string? why = null;
            long s = -1;
            if (leaf < 0 || !tree.IsLeaf(leaf))
            {
                why = $"sub-mesh {old.SubMesh} is not in the current layout";
            }
            else if (!tree.Ipv6RangeOf(leaf).Contains(old.Ipv6Prefix) || old.Ipv6Prefix.Length != layout.Ipv6NodePrefixLength)
            {
                why = $"{old.Ipv6Prefix} is not a /{layout.Ipv6NodePrefixLength} inside sub-mesh {old.SubMesh} ({tree.Ipv6RangeOf(leaf)})";
            }
            else
            {
                s = (long)tree.Ipv6RangeOf(leaf).IndexOf(old.Ipv6Prefix);
                if (s >= layout.SlotsPerLeaf)
                {
                    why = $"{old.Ipv6Prefix} is beyond the {layout.SlotsPerLeaf} prefixes a sub-mesh holds";
                }
                else if (!slots[leaf - tree.FirstLeaf].TryClaim(s))
                {
                    why = $"{old.Ipv6Prefix} is also held by another node";
                }
            }

            if (why is not null)
            {
                notes.Add($"node {nodes[i].Name} renumbered: {why}");
                continue;
            }

            home[i] = leaf;
            slot[i] = s;
            if (tree.Ipv4RangeOf(leaf) is not null && old.Ipv4Prefix is { } v4 && v4 != tree.Ipv4RangeOf(leaf)!.Value.Subprefix((UInt128)s, layout.Ipv4NodePrefixLength))
            {
                notes.Add($"node {nodes[i].Name}: IPv4 prefix {v4} replaced to follow its IPv6 slot");
            }
        }
    }

    /// <summary>
    /// New nodes, in random order, each go to a random leaf among the least filled ones: the
    /// assignment is random and the leaves stay balanced, so tables stay near S + M.
    /// </summary>
    private static void PlaceNewNodes(SubMeshTree tree, NodeInfo[] nodes, int[] home, long[] slot, LeafSlots[] slots, IRandomSource random, List<string> errors)
    {
        var pending = Enumerable.Range(0, nodes.Length).Where(i => home[i] < 0).ToArray();
        if (pending.Length == 0)
        {
            return;
        }

        random.Shuffle(pending.AsSpan());

        // Leaves bucketed by fill; each round deals one node to every leaf of the lowest bucket,
        // in random order: each node lands on a random leaf among the least filled.
        var buckets = new SortedDictionary<long, List<int>>();
        for (var l = 0; l < tree.LeafCount; l++)
        {
            if (slots[l].HasRoom)
            {
                if (!buckets.TryGetValue(slots[l].Used, out var list))
                {
                    buckets[slots[l].Used] = list = [];
                }

                list.Add(l);
            }
        }

        var next = 0;
        while (next < pending.Length && buckets.Count > 0)
        {
            var (fill, round) = buckets.First();
            buckets.Remove(fill);

            // While no other bucket waits, whole rounds are dealt without touching the buckets.
            do
            {
                random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(round));
                var stillRoom = new List<int>(round.Count);
                foreach (var l in round)
                {
                    if (next == pending.Length)
                    {
                        break;
                    }

                    var i = pending[next++];
                    home[i] = tree.FirstLeaf + l;
                    slot[i] = slots[l].Next();
                    if (slots[l].HasRoom)
                    {
                        stillRoom.Add(l);
                    }
                }

                fill++;
                round = stillRoom;
            }
            while (buckets.Count == 0 && round.Count > 0 && next < pending.Length);

            if (round.Count > 0 && next < pending.Length)
            {
                if (buckets.TryGetValue(fill, out var same))
                {
                    same.AddRange(round);
                }
                else
                {
                    buckets[fill] = round;
                }
            }
        }

        var unplaced = pending.Length - next;
        if (unplaced > 0)
        {
            var layout = tree.Layout;
            errors.Add($"address range exhausted: {unplaced} of {nodes.Length} nodes have no prefix; {tree.LeafCount} sub-mesh(es) of {layout.SlotsPerLeaf} /{layout.Ipv6NodePrefixLength} prefixes in {layout.Ipv6Range} are full");
        }
    }

    /// <summary>Free prefix slots of one leaf: kept slots are claimed first, new ones take the lowest free.</summary>
    private sealed class LeafSlots(long capacity)
    {
        private readonly List<long> _claimed = [];
        private readonly HashSet<long> _claimedSet = [];
        private bool _sorted = true;
        private int _cursor;
        private long _candidate;

        public long Used { get; private set; }

        public bool HasRoom => Used < capacity;

        public bool TryClaim(long s)
        {
            if (!_claimedSet.Add(s))
            {
                return false;
            }

            _claimed.Add(s);
            _sorted = false;
            Used++;
            return true;
        }

        public long Next()
        {
            if (!_sorted)
            {
                _claimed.Sort();
                _sorted = true;
            }

            while (_cursor < _claimed.Count && _claimed[_cursor] <= _candidate)
            {
                if (_claimed[_cursor] == _candidate)
                {
                    _candidate++;
                }

                _cursor++;
            }

            Used++;
            return _candidate++;
        }

        public void Seal()
        {
            _claimed.Clear();
            _claimedSet.Clear();
        }
    }
}
