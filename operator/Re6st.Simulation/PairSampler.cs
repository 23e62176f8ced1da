using Re6st.Core.Randomness;

namespace Re6st.Simulation;

/// <summary>Random (source, targets) groups: a few BFS sources, many targets each, as BFS is per source.</summary>
public static class PairSampler
{
    public static (int Source, int[] Targets)[] Sample(int nodes, int pairs, int perSource, IRandomSource random, Func<int, bool>? usable = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (nodes < 2 || pairs <= 0)
        {
            return [];
        }

        int Draw()
        {
            for (var attempt = 0; attempt < 10_000; attempt++)
            {
                var v = random.NextInt(nodes);
                if (usable is null || usable(v))
                {
                    return v;
                }
            }

            return -1;
        }

        var groups = new List<(int, int[])>();
        var left = pairs;
        while (left > 0)
        {
            var s = Draw();
            if (s < 0)
            {
                break;
            }

            var take = Math.Min(perSource, left);
            var targets = new List<int>(take);
            while (targets.Count < take)
            {
                var t = Draw();
                if (t < 0)
                {
                    break;
                }

                if (t != s)
                {
                    targets.Add(t);
                }
            }

            groups.Add((s, targets.ToArray()));
            left -= take;
        }

        return [.. groups];
    }
}
