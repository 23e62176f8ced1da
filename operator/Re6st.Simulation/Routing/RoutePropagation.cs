using Re6st.Core.Addressing;
using Re6st.Core.Planning;

namespace Re6st.Simulation.Routing;

/// <summary>
/// A literal model of what Babel does with the plan's announcements and out-filters over a given
/// set of arrows: every prefix floods from the nodes that originate it, crossing an arrow only when
/// the sender's filters for that arrow's sub-mesh allow it. Independent of
/// <see cref="RoutingTableModel"/>, so each checks the other; it also finds leaks (a node holding a
/// specific prefix of a sub-mesh it is not in).
/// </summary>
public static class RoutePropagation
{
    public static PropagationResult Run(MeshPlan plan, ArrowGraph graph, IpFamily family = IpFamily.V6, bool keepTables = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(graph);
        var n = plan.NodeCount;
        var filters = new Dictionary<int, RouteFilter[]>[n];
        var origins = new Dictionary<IpPrefix, List<int>>();
        var ownerOf = new Dictionary<IpPrefix, int>();
        for (var i = 0; i < n; i++)
        {
            if (!plan.IsPlaced(i))
            {
                continue;
            }

            AddOrigin(origins, plan.PrefixOf(i, family), i);
            ownerOf[plan.PrefixOf(i, family)] = i;
            var memberships = plan.MembershipsOf(i);
            if (memberships.Length < 2)
            {
                continue;
            }

            filters[i] = [];
            foreach (var m in memberships.Distinct())
            {
                var deny = new List<RouteFilter>();
                var announce = new List<IpPrefix>();
                plan.FiltersInto(m, memberships, family, deny, announce);
                filters[i][m] = [.. deny];
                foreach (var a in announce)
                {
                    AddOrigin(origins, a, i);
                }
            }
        }

        var memberOf = new int[n][];
        for (var i = 0; i < n; i++)
        {
            memberOf[i] = plan.MembershipsOf(i);
        }

        var counts = new int[n];
        var tables = keepTables ? Enumerable.Range(0, n).Select(_ => new List<IpPrefix>()).ToArray() : null;
        var leaks = new List<string>();
        var stamp = new int[n];
        var queue = new int[n];
        var round = 0;
        foreach (var (prefix, from) in origins.OrderBy(kv => kv.Key))
        {
            round++;
            var head = 0;
            var tail = 0;
            var home = ownerOf.TryGetValue(prefix, out var owner) ? plan.HomeOf(owner) : -1;
            foreach (var o in from)
            {
                if (stamp[o] != round)
                {
                    stamp[o] = round;
                    queue[tail++] = o;
                }
            }

            while (head < tail)
            {
                var u = queue[head++];
                counts[u]++;
                tables?[u].Add(prefix);
                if (home >= 0 && Array.IndexOf(memberOf[u], home) < 0 && leaks.Count < 20)
                {
                    leaks.Add($"{prefix} of {plan.Nodes[owner].Name} (sub-mesh {plan.Tree.IdOf(home)}) reached {plan.Nodes[u].Name}, which is not a member");
                }

                var peers = graph.Neighbors(u);
                var subs = graph.SubMeshes(u);
                for (var k = 0; k < peers.Length; k++)
                {
                    var v = peers[k];
                    if (stamp[v] == round || !Allows(filters[u], subs[k], prefix))
                    {
                        continue;
                    }

                    stamp[v] = round;
                    queue[tail++] = v;
                }
            }
        }

        return new PropagationResult(counts, tables, leaks);
    }

    private static bool Allows(Dictionary<int, RouteFilter[]>? filters, int subMesh, IpPrefix prefix)
    {
        if (filters is null || !filters.TryGetValue(subMesh, out var deny))
        {
            return true;
        }

        foreach (var f in deny)
        {
            if (f.Denies(prefix))
            {
                return false;
            }
        }

        return true;
    }

    private static void AddOrigin(Dictionary<IpPrefix, List<int>> origins, IpPrefix prefix, int node)
    {
        if (!origins.TryGetValue(prefix, out var list))
        {
            origins[prefix] = list = [];
        }

        if (!list.Contains(node))
        {
            list.Add(node);
        }
    }
}

/// <summary>Per node, how many prefixes it holds (and which, when asked); leaks found on the way.</summary>
public sealed record PropagationResult(int[] Counts, List<IpPrefix>[]? Tables, IReadOnlyList<string> Leaks);
