using Re6st.Core.Addressing;

namespace Re6st.Core.Planning;

/// <summary>
/// The sub-mesh tree of a layout: the root (the whole mesh) at level 0, then each level split by
/// its fan-out; leaves sit at level Order-1 and are where nodes live. Each tree node owns an
/// aggregate range: its parent's range extended by the level's bits. Tree nodes of one level are
/// numbered contiguously, so the tree is a few arrays even with 10^4 leaves.
/// </summary>
public sealed class SubMeshTree
{
    private readonly int[] _levelStart;
    private readonly int[] _level;
    private readonly int[] _parent;
    private readonly IpPrefix[] _v6;
    private readonly IpPrefix[]? _v4;

    public SubMeshTree(MeshLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Layout = layout;
        Order = layout.Order;
        _levelStart = new int[Order + 1];
        var width = 1;
        for (var level = 0; level < Order; level++)
        {
            _levelStart[level + 1] = _levelStart[level] + width;
            if (level < Order - 1)
            {
                width *= layout.SubMeshes[level];
            }
        }

        Count = _levelStart[Order];
        _level = new int[Count];
        _parent = new int[Count];
        _v6 = new IpPrefix[Count];
        _v4 = layout.Ipv4Range is null ? null : new IpPrefix[Count];
        _parent[0] = -1;
        _v6[0] = layout.Ipv6Range;
        if (_v4 is not null)
        {
            _v4[0] = layout.Ipv4Range!.Value;
        }

        for (var level = 1; level < Order; level++)
        {
            var fan = layout.SubMeshes[level - 1];
            var bits = layout.LevelBits(level);
            for (var i = _levelStart[level]; i < _levelStart[level + 1]; i++)
            {
                var position = i - _levelStart[level];
                var parent = _levelStart[level - 1] + (position / fan);
                var digit = (UInt128)(uint)(position % fan);
                _level[i] = level;
                _parent[i] = parent;
                _v6[i] = _v6[parent].Subprefix(digit, _v6[parent].Length + bits);
                if (_v4 is not null)
                {
                    _v4[i] = _v4[parent].Subprefix(digit, _v4[parent].Length + bits);
                }
            }
        }
    }

    public MeshLayout Layout { get; }

    public int Order { get; }

    public int Count { get; }

    public int FirstLeaf => _levelStart[Order - 1];

    public int LeafCount => Count - FirstLeaf;

    public bool IsLeaf(int subMesh) => subMesh >= FirstLeaf;

    public int LevelOf(int subMesh) => _level[subMesh];

    public int ParentOf(int subMesh) => _parent[subMesh];

    public int FirstOfLevel(int level) => _levelStart[level];

    public int CountOfLevel(int level) => _levelStart[level + 1] - _levelStart[level];

    public IpPrefix Ipv6RangeOf(int subMesh) => _v6[subMesh];

    public IpPrefix? Ipv4RangeOf(int subMesh) => _v4?[subMesh];

    public IpPrefix RangeOf(int subMesh, IpFamily family) =>
        family == IpFamily.V6 ? _v6[subMesh] : _v4?[subMesh] ?? throw new InvalidOperationException("the mesh has no IPv4 range");

    /// <summary>Children of a tree node (a contiguous block).</summary>
    public (int First, int Count) ChildrenOf(int subMesh)
    {
        var level = _level[subMesh];
        if (level >= Order - 1)
        {
            return (0, 0);
        }

        var fan = Layout.SubMeshes[level];
        return (_levelStart[level + 1] + ((subMesh - _levelStart[level]) * fan), fan);
    }

    /// <summary>The ancestor of <paramref name="subMesh"/> at <paramref name="level"/> (itself at its own level).</summary>
    public int AncestorAt(int subMesh, int level)
    {
        while (_level[subMesh] > level)
        {
            subMesh = _parent[subMesh];
        }

        return subMesh;
    }

    public int LowestCommonAncestor(int a, int b)
    {
        while (_level[a] > _level[b])
        {
            a = _parent[a];
        }

        while (_level[b] > _level[a])
        {
            b = _parent[b];
        }

        while (a != b)
        {
            a = _parent[a];
            b = _parent[b];
        }

        return a;
    }

    /// <summary>
    /// Seen from sub-mesh <paramref name="from"/>, the aggregate that stands for <paramref name="other"/>:
    /// the child of their common ancestor that contains <paramref name="other"/>. A bridge between
    /// the two announces this range into <paramref name="from"/> and nothing more specific inside it.
    /// </summary>
    public int AggregateFor(int other, int from)
    {
        var lca = LowestCommonAncestor(other, from);
        return other == lca ? other : AncestorAt(other, _level[lca] + 1);
    }

    /// <summary>A stable name: "root", or the digits of the path ("3", "3.17").</summary>
    public string IdOf(int subMesh)
    {
        if (subMesh == 0)
        {
            return "root";
        }

        var digits = new List<int>();
        for (var s = subMesh; s != 0; s = _parent[s])
        {
            var level = _level[s];
            digits.Add((s - _levelStart[level]) % Layout.SubMeshes[level - 1]);
        }

        digits.Reverse();
        return string.Join('.', digits);
    }

    /// <summary>The tree node named by <paramref name="id"/>, or -1 when this layout has no such sub-mesh.</summary>
    public int Find(string? id)
    {
        if (id == "root")
        {
            return 0;
        }

        if (string.IsNullOrEmpty(id))
        {
            return -1;
        }

        var parts = id.Split('.');
        if (parts.Length > Order - 1)
        {
            return -1;
        }

        var node = 0;
        foreach (var part in parts)
        {
            var (first, count) = ChildrenOf(node);
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, null, out var digit) || digit >= count)
            {
                return -1;
            }

            node = first + digit;
        }

        return node;
    }
}
