using Re6st.Core.Arrows;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Simulation;

/// <summary>
/// The arrows of one sub-mesh (or of one whole flat mesh), held the way agents hold them: each
/// arrow has an initiator, and each member draws its own arrows with <see cref="ArrowSelection"/>.
/// Adjacency lives in a few flat arrays, not millions of small growing objects for the garbage
/// collector to scan: each member's first neighbours sit in a contiguous block (one cache line
/// or two), and the rare extra ones in a linked overflow.
/// </summary>
public sealed class SubMeshArrows
{
    private const int BlockSize = 32;
    private readonly int[] _block;
    private readonly int[] _head;
    private readonly int[] _degree;
    private readonly int[] _outgoing;
    private int[] _next = new int[64];
    private int[] _peer = new int[64];
    private int _entries;
    private int _maxDegree;

    public SubMeshArrows(int subMesh, int[] members, MemberSet set)
    {
        SubMesh = subMesh;
        Members = members;
        Set = set;
        _block = new int[members.Length * BlockSize];
        _head = new int[members.Length];
        Array.Fill(_head, -1);
        _degree = new int[members.Length];
        _outgoing = new int[members.Length];
    }

    public int SubMesh { get; }

    /// <summary>Global node ids of the members; arrows use indexes into this array.</summary>
    public int[] Members { get; }

    public MemberSet Set { get; }

    /// <summary>Arrows as (initiator, peer), local indexes.</summary>
    public List<(int From, int To)> Arrows { get; } = [];

    public int MaxDegree => _maxDegree;

    public int OutgoingOf(int local) => _outgoing[local];

    public int DegreeOf(int local) => _degree[local];

    /// <summary>Copies the members joined to <paramref name="local"/> into <paramref name="into"/>; returns how many.</summary>
    public int CopyAdjacent(int local, Span<int> into)
    {
        var n = Math.Min(_degree[local], BlockSize);
        _block.AsSpan(local * BlockSize, n).CopyTo(into);
        for (var e = _head[local]; e >= 0; e = _next[e])
        {
            into[n++] = _peer[e];
        }

        return n;
    }

    /// <summary>Every member, in random order, draws arrows up to the policy's target.</summary>
    public SelectionCounts Fill(RandomizationPolicy policy, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(random);
        var order = Enumerable.Range(0, Members.Length).ToArray();
        random.Shuffle(order.AsSpan());
        var counts = new SelectionCounts();
        var buffer = new int[Math.Max(16, _maxDegree + policy.ArrowsPerNode + 16)];
        foreach (var i in order)
        {
            if (buffer.Length < _degree[i])
            {
                buffer = new int[_degree[i] * 2];
            }

            var n = CopyAdjacent(i, buffer);
            var choices = ArrowSelection.Select(Set, i, buffer.AsSpan(0, n), _outgoing[i], policy, random);
            foreach (var c in choices)
            {
                Add(i, c.Peer);
                counts.Count(c.Reason);
            }
        }

        return counts;
    }

    public void Add(int from, int to)
    {
        Arrows.Add((from, to));
        Link(from, to);
        Link(to, from);
        _outgoing[from]++;
    }

    /// <summary>Removes the arrows for which <paramref name="remove"/> is true (index into <see cref="Arrows"/>).</summary>
    public int RemoveWhere(Func<int, bool> remove)
    {
        ArgumentNullException.ThrowIfNull(remove);
        var kept = new List<(int From, int To)>(Arrows.Count);
        for (var k = 0; k < Arrows.Count; k++)
        {
            if (!remove(k))
            {
                kept.Add(Arrows[k]);
            }
        }

        var removed = Arrows.Count - kept.Count;
        Arrows.Clear();
        Array.Fill(_head, -1);
        Array.Clear(_degree);
        Array.Clear(_outgoing);
        _entries = 0;
        _maxDegree = 0;
        foreach (var (from, to) in kept)
        {
            Add(from, to);
        }

        return removed;
    }

    private void Link(int a, int b)
    {
        if (_degree[a] < BlockSize)
        {
            _block[(a * BlockSize) + _degree[a]] = b;
            _maxDegree = Math.Max(_maxDegree, ++_degree[a]);
            return;
        }

        if (_entries == _peer.Length)
        {
            Array.Resize(ref _peer, _peer.Length * 2);
            Array.Resize(ref _next, _next.Length * 2);
        }

        _peer[_entries] = b;
        _next[_entries] = _head[a];
        _head[a] = _entries++;
        _maxDegree = Math.Max(_maxDegree, ++_degree[a]);
    }
}

/// <summary>How many arrows each selection step chose.</summary>
public sealed class SelectionCounts
{
    private readonly long[] _byReason = new long[Enum.GetValues<SelectionReason>().Length];

    public long this[SelectionReason reason] => _byReason[(int)reason];

    public long Total => _byReason.Sum();

    public void Count(SelectionReason reason) => _byReason[(int)reason]++;

    public void Add(SelectionCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _byReason.Length; i++)
        {
            _byReason[i] += other._byReason[i];
        }
    }
}
