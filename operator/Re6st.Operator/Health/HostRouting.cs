using Re6st.Contracts;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Health;

/// <summary>
/// Whether each host of a mesh is routed, from what its agent writes in its MeshNode's status: the
/// one rule behind the Mesh's Ready condition (the operator) and <c>re6st check</c>. A host is
/// routed when its agent wrote its status within <see cref="StatusHeartbeat.StaleAfter"/>, its
/// babeld answers, it has an arrow (in a mesh of more than one host), and it holds at least as many
/// routes as there are live hosts homed in the sub-meshes it speaks in (each announces its prefix
/// there; a host visiting as a bridge may be heard only through its home's aggregate, so it is not
/// counted).
/// </summary>
public static class HostRouting
{
    /// <summary>How long a new host has to become routed before it counts against the mesh (Progressing until then, Degraded after).</summary>
    public static readonly TimeSpan ConvergeWithin = TimeSpan.FromMinutes(3);

    /// <summary>Whether the agent of <paramref name="node"/> wrote its status recently.</summary>
    public static bool IsLive(V1Alpha1MeshNode node, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(node);
        return StatusHeartbeat.Parse(node.Status?.Heartbeat) is { } beat && !StatusHeartbeat.IsStale(now - beat);
    }

    /// <summary>For each host of <paramref name="nodes"/>, why it is not routed, or null when it is.</summary>
    public static IReadOnlyDictionary<string, string?> Evaluate(IReadOnlyList<V1Alpha1MeshNode> nodes, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var live = nodes.Where(n => IsLive(n, now)).ToList();
        return nodes.ToDictionary(n => n.Spec.Node, n => Why(n, LivePeers(n, live), nodes.Count, now), StringComparer.Ordinal);
    }

    /// <summary>The live hosts other than <paramref name="node"/> homed in a sub-mesh it speaks in.</summary>
    public static int LivePeers(V1Alpha1MeshNode node, IEnumerable<V1Alpha1MeshNode> live)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(live);
        var mine = node.Spec.Memberships.Select(m => m.SubMesh).ToHashSet(StringComparer.Ordinal);
        return live.Count(n => n.Spec.Node != node.Spec.Node && mine.Contains(n.Spec.HomeSubMesh));
    }

    /// <summary>Whether <paramref name="node"/> is new enough to be still converging (or not written yet).</summary>
    public static bool IsConverging(V1Alpha1MeshNode? node, DateTimeOffset now) =>
        node?.Metadata.CreationTimestamp is not { } created || now - new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) < ConvergeWithin;

    private static string? Why(V1Alpha1MeshNode node, int peers, int hosts, DateTimeOffset now)
    {
        var status = node.Status;
        if (status is null)
        {
            return "no status from its agent yet";
        }

        if (StatusHeartbeat.Parse(status.Heartbeat) is not { } beat)
        {
            return "no heartbeat in its status";
        }

        // No figure that moves with the clock: the Mesh's conditions say this, and would change at every look.
        if (StatusHeartbeat.IsStale(now - beat))
        {
            return $"its agent wrote nothing for over {StatusHeartbeat.StaleAfter.TotalSeconds:0} s";
        }

        if (status.Routes is not { } routes)
        {
            return "babeld does not answer its agent";
        }

        if (hosts > 1 && (status.Arrows?.Count ?? 0) == 0)
        {
            return "no arrow";
        }

        return routes < peers ? $"{routes} route(s) for {peers} live host(s) homed in its sub-meshes" : null;
    }
}
