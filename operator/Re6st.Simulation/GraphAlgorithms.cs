using Re6st.Simulation.Routing;

namespace Re6st.Simulation;

public static class GraphAlgorithms
{
    /// <summary>Hop distances from one source over working arrows (-1: unreachable).</summary>
    public static int[] Distances(ArrowGraph graph, int source, Failures failures)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(failures);
        var dist = new int[graph.NodeCount];
        Array.Fill(dist, -1);
        if (!failures.IsAlive(source))
        {
            return dist;
        }

        var queue = new int[graph.NodeCount];
        var head = 0;
        var tail = 0;
        dist[source] = 0;
        queue[tail++] = source;
        while (head < tail)
        {
            var u = queue[head++];
            foreach (var v in graph.Neighbors(u))
            {
                if (dist[v] < 0 && failures.IsAlive(v) && !failures.IsCut(u, v))
                {
                    dist[v] = dist[u] + 1;
                    queue[tail++] = v;
                }
            }
        }

        return dist;
    }

    /// <summary>Component id of every node over working arrows (dead nodes: -1).</summary>
    public static int[] Components(ArrowGraph graph, Failures failures)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(failures);
        var n = graph.NodeCount;
        var parent = new int[n];
        for (var i = 0; i < n; i++)
        {
            parent[i] = i;
        }

        int Find(int a)
        {
            while (parent[a] != a)
            {
                a = parent[a] = parent[parent[a]];
            }

            return a;
        }

        for (var u = 0; u < n; u++)
        {
            if (!failures.IsAlive(u))
            {
                continue;
            }

            foreach (var v in graph.Neighbors(u))
            {
                if (v > u && failures.IsAlive(v) && !failures.IsCut(u, v))
                {
                    parent[Find(u)] = Find(v);
                }
            }
        }

        var comp = new int[n];
        for (var i = 0; i < n; i++)
        {
            comp[i] = failures.IsAlive(i) ? Find(i) : -1;
        }

        return comp;
    }

    /// <summary>Exact share of ordered pairs of live nodes that can reach each other (Σ s(s-1) / n(n-1)).</summary>
    public static double ConnectedShare(ArrowGraph graph, Failures failures)
    {
        var comp = Components(graph, failures);
        var sizes = new Dictionary<int, long>();
        long alive = 0;
        foreach (var c in comp)
        {
            if (c >= 0)
            {
                alive++;
                sizes[c] = sizes.GetValueOrDefault(c) + 1;
            }
        }

        if (alive < 2)
        {
            return 0;
        }

        double connected = sizes.Values.Sum(s => (double)s * (s - 1));
        return connected / (alive * (double)(alive - 1));
    }

    /// <summary>
    /// Exact mean hop distance over all ordered pairs that can reach each other: a BFS from every
    /// node, run 256 sources at a time as bit sets (multi-source BFS), on all cores.
    /// </summary>
    public static (double Mean, double ReachablePairs) AllPairsMeanDistance(ArrowGraph graph, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        const int Words = 4;
        var n = graph.NodeCount;
        var seen = new ulong[n * Words];
        var frontier = new ulong[n * Words];
        var next = new ulong[n * Words];
        double totalDistance = 0;
        double pairs = 0;
        var batches = (n + (Words * 64) - 1) / (Words * 64);
        for (var batch = 0; batch < batches; batch++)
        {
            Array.Clear(seen);
            Array.Clear(frontier);
            var first = batch * Words * 64;
            var last = Math.Min(n, first + (Words * 64));
            for (var s = first; s < last; s++)
            {
                var bit = s - first;
                seen[(s * Words) + (bit >> 6)] |= 1UL << (bit & 63);
                frontier[(s * Words) + (bit >> 6)] |= 1UL << (bit & 63);
            }

            for (var level = 1; ; level++)
            {
                long found = 0;
                var lockObject = new object();
                Parallel.For(0, Environment.ProcessorCount, worker =>
                {
                    long local = 0;
                    var chunk = (n + Environment.ProcessorCount - 1) / Environment.ProcessorCount;
                    var end = Math.Min(n, (worker + 1) * chunk);
                    for (var v = worker * chunk; v < end; v++)
                    {
                        ulong a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                        foreach (var u in graph.Neighbors(v))
                        {
                            var o = u * Words;
                            a0 |= frontier[o];
                            a1 |= frontier[o + 1];
                            a2 |= frontier[o + 2];
                            a3 |= frontier[o + 3];
                        }

                        var p = v * Words;
                        a0 &= ~seen[p];
                        a1 &= ~seen[p + 1];
                        a2 &= ~seen[p + 2];
                        a3 &= ~seen[p + 3];
                        next[p] = a0;
                        next[p + 1] = a1;
                        next[p + 2] = a2;
                        next[p + 3] = a3;
                        seen[p] |= a0;
                        seen[p + 1] |= a1;
                        seen[p + 2] |= a2;
                        seen[p + 3] |= a3;
                        local += (long)(ulong.PopCount(a0) + ulong.PopCount(a1) + ulong.PopCount(a2) + ulong.PopCount(a3));
                    }

                    lock (lockObject)
                    {
                        found += local;
                    }
                });

                if (found == 0)
                {
                    break;
                }

                totalDistance += (double)found * level;
                pairs += found;
                (frontier, next) = (next, frontier);
            }

            progress?.Report((batch + 1) / (double)batches);
        }

        return (pairs == 0 ? 0 : totalDistance / pairs, pairs);
    }
}
