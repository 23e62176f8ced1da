using Re6st.Core.Planning;
using Re6st.Simulation.Routing;

namespace Re6st.Simulation;

/// <summary>
/// Where a packet goes once Babel has converged over the surviving arrows: at each hop, the
/// longest prefix the node holds for the destination (the destination's own prefix inside its
/// sub-mesh, else the most specific aggregate), then the shortest working path along which that
/// prefix was announced, honoring every bridge's out-filters. A prefix nobody can announce any
/// more falls back to a less specific one; a packet that reaches its aggregate's originator
/// without a better route is dropped (an unreachable route), as in the kernel.
/// </summary>
public sealed class Router : IDisposable
{
    private const int MaxHops = 128;
    private const int Specific = int.MaxValue;

    private readonly MeshPlan _plan;
    private readonly SubMeshTree _tree;
    private readonly ArrowGraph _graph;
    private readonly Failures _failures;
    private readonly ThreadLocal<Scratch> _scratch;

    public Router(MeshPlan plan, ArrowGraph graph, Failures failures)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(failures);
        _plan = plan;
        _tree = plan.Tree;
        _graph = graph;
        _failures = failures;
        _scratch = new ThreadLocal<Scratch>(() => new Scratch(graph.NodeCount));
    }

    public void Dispose() => _scratch.Dispose();

    /// <summary>Hops from s to t along the routed path, or -1 when the packet cannot get there.</summary>
    public int Hops(int s, int t)
    {
        if (!_failures.IsAlive(s) || !_failures.IsAlive(t))
        {
            return -1;
        }

        var scratch = _scratch.Value!;
        var target = _plan.HomeOf(t);
        var x = s;
        var hops = 0;
        Span<int> candidates = stackalloc int[8];
        while (x != t)
        {
            if (hops > MaxHops)
            {
                return -1;
            }

            var count = Candidates(x, target, candidates);
            var moved = false;
            for (var c = 0; c < count && !moved; c++)
            {
                var prefix = candidates[c];
                var length = scratch.PathBack(this, x, t, prefix);
                if (length < 0)
                {
                    continue;
                }

                if (length == 0)
                {
                    return -1;
                }

                // Follow the route while no node on it knows a more specific prefix.
                var level = prefix == Specific ? Specific : _tree.LevelOf(prefix);
                for (var j = 1; j <= length; j++)
                {
                    x = scratch.Path[j];
                    hops++;
                    if (x == t || BestLevel(x, target) > level)
                    {
                        break;
                    }
                }

                moved = true;
            }

            if (!moved)
            {
                return -1;
            }
        }

        return hops;
    }

    /// <summary>The prefixes x holds that cover a node of leaf <paramref name="target"/>, most specific first.</summary>
    private int Candidates(int x, int target, Span<int> result)
    {
        var n = 0;
        var k = _plan.MembershipCount(x);
        for (var i = 0; i < k; i++)
        {
            if (_plan.MembershipAt(x, i) == target)
            {
                result[n++] = Specific;
                break;
            }
        }

        for (var i = 0; i < k; i++)
        {
            var m = _plan.MembershipAt(x, i);
            if (m == target)
            {
                continue;
            }

            var aggregate = _tree.AggregateFor(target, m);
            if (result[..n].IndexOf(aggregate) < 0)
            {
                result[n++] = aggregate;
            }
        }

        // Most specific first: the exact prefix, then deeper aggregates.
        result[..n].Sort((a, b) => (b == Specific ? int.MaxValue : _tree.LevelOf(b)).CompareTo(a == Specific ? int.MaxValue : _tree.LevelOf(a)));
        return n;
    }

    private int BestLevel(int x, int target)
    {
        var best = -1;
        var k = _plan.MembershipCount(x);
        for (var i = 0; i < k; i++)
        {
            var m = _plan.MembershipAt(x, i);
            if (m == target)
            {
                return Specific;
            }

            best = Math.Max(best, _tree.LevelOf(_tree.AggregateFor(target, m)));
        }

        return best;
    }

    /// <summary>Does u originate this prefix (its own prefix, or an aggregate it announces as a bridge)?</summary>
    private bool Originates(int u, int t, int prefix)
    {
        if (prefix == Specific)
        {
            return u == t;
        }

        var k = _plan.MembershipCount(u);
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                if (i != j && _tree.AggregateFor(_plan.MembershipAt(u, j), _plan.MembershipAt(u, i)) == prefix)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Can u hold this prefix at all (a member of the target's leaf, or a node that sees the aggregate)?</summary>
    private bool MayHold(int u, int target, int prefix)
    {
        var k = _plan.MembershipCount(u);
        for (var i = 0; i < k; i++)
        {
            var m = _plan.MembershipAt(u, i);
            if (prefix == Specific ? m == target : m != target && _tree.AggregateFor(target, m) == prefix)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The sender's out-filter for an arrow of sub-mesh <paramref name="subMesh"/> (see MeshPlan.FiltersInto).</summary>
    private bool Allows(int u, int subMesh, int target, int prefix)
    {
        var k = _plan.MembershipCount(u);
        if (k < 2)
        {
            return true;
        }

        for (var i = 0; i < k; i++)
        {
            var other = _plan.MembershipAt(u, i);
            if (other == subMesh)
            {
                continue;
            }

            var aggregate = _tree.AggregateFor(other, subMesh);
            var inside = prefix == Specific
                ? IsUnder(target, aggregate)
                : prefix != aggregate && IsUnder(prefix, aggregate);
            if (inside)
            {
                return false;
            }
        }

        // Never into a sub-mesh an aggregate that covers it.
        return prefix == Specific || !IsUnder(subMesh, prefix);
    }

    private bool IsUnder(int node, int ancestor) =>
        _tree.LevelOf(node) >= _tree.LevelOf(ancestor) && _tree.AncestorAt(node, _tree.LevelOf(ancestor)) == ancestor;

    private sealed class Scratch(int n)
    {
        private readonly int[] _stamp = new int[n];
        private readonly int[] _parent = new int[n];
        private readonly int[] _queue = new int[n];
        private int _round;

        public List<int> Path { get; } = [];

        /// <summary>
        /// BFS from x backwards along announcements of the prefix until a live originator; fills
        /// <see cref="Path"/> with x ... originator and returns its length in hops (-1: none).
        /// </summary>
        public int PathBack(Router r, int x, int t, int prefix)
        {
            _round++;
            var target = r._plan.HomeOf(t);
            var head = 0;
            var tail = 0;
            _stamp[x] = _round;
            _parent[x] = -1;
            _queue[tail++] = x;
            var found = -1;
            while (head < tail)
            {
                var v = _queue[head++];
                if (r.Originates(v, t, prefix))
                {
                    found = v;
                    break;
                }

                var peers = r._graph.Neighbors(v);
                var subs = r._graph.SubMeshes(v);
                for (var k = 0; k < peers.Length; k++)
                {
                    var u = peers[k];
                    if (_stamp[u] == _round || !r._failures.IsAlive(u) || r._failures.IsCut(u, v)
                        || !r.MayHold(u, target, prefix) || !r.Allows(u, subs[k], target, prefix))
                    {
                        continue;
                    }

                    _stamp[u] = _round;
                    _parent[u] = v;
                    _queue[tail++] = u;
                }
            }

            Path.Clear();
            if (found < 0)
            {
                return -1;
            }

            for (var v = found; v >= 0; v = _parent[v])
            {
                Path.Add(v);
            }

            Path.Reverse();
            return Path.Count - 1;
        }
    }
}
