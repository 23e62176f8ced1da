namespace Re6st.Simulation.Routing;

/// <summary>An arrow between two nodes, made inside one leaf sub-mesh (both ends are members of it).</summary>
public readonly record struct Arrow(int From, int To, int SubMesh);

/// <summary>
/// Arrows as an undirected adjacency (CSR): for each node its neighbours and the sub-mesh of the
/// arrow that joins them. A tunnel carries traffic both ways whoever initiated it.
/// </summary>
public sealed class ArrowGraph
{
    private readonly int[] _start;
    private readonly int[] _peer;
    private readonly int[]? _subMesh;

    private ArrowGraph(int[] start, int[] peer, int[]? subMesh)
    {
        _start = start;
        _peer = peer;
        _subMesh = subMesh;
    }

    public int NodeCount => _start.Length - 1;

    /// <summary>Directed entries (twice the number of arrows).</summary>
    public int EntryCount => _peer.Length;

    public static ArrowGraph Build(int nodeCount, IReadOnlyList<Arrow> arrows)
    {
        ArgumentNullException.ThrowIfNull(arrows);
        return Build(nodeCount, add =>
        {
            foreach (var a in arrows)
            {
                add(a);
            }
        });
    }

    /// <summary>
    /// Builds from a producer that is called twice (count, then fill), so no list of arrows is
    /// materialized. Without <paramref name="withSubMeshes"/> the graph is lighter but has no
    /// <see cref="SubMeshes"/> (enough for a flat mesh, where every arrow is in the one mesh).
    /// </summary>
    public static ArrowGraph Build(int nodeCount, Action<Action<Arrow>> forEachArrow, bool withSubMeshes = true)
    {
        ArgumentNullException.ThrowIfNull(forEachArrow);
        var start = new int[nodeCount + 1];
        forEachArrow(a =>
        {
            start[a.From + 1]++;
            start[a.To + 1]++;
        });

        for (var i = 0; i < nodeCount; i++)
        {
            start[i + 1] += start[i];
        }

        var next = new int[nodeCount];
        Array.Copy(start, next, nodeCount);
        var peer = new int[start[nodeCount]];
        var sub = withSubMeshes ? new int[start[nodeCount]] : null;
        forEachArrow(a =>
        {
            if (sub is not null)
            {
                sub[next[a.From]] = a.SubMesh;
                sub[next[a.To]] = a.SubMesh;
            }

            peer[next[a.From]++] = a.To;
            peer[next[a.To]++] = a.From;
        });

        return new ArrowGraph(start, peer, sub);
    }

    public int DegreeOf(int node) => _start[node + 1] - _start[node];

    public ReadOnlySpan<int> Neighbors(int node) => _peer.AsSpan(_start[node], _start[node + 1] - _start[node]);

    /// <summary>Sub-mesh of each arrow in <see cref="Neighbors"/>, position by position.</summary>
    public ReadOnlySpan<int> SubMeshes(int node) => _subMesh is null
        ? throw new InvalidOperationException("this graph was built without sub-meshes")
        : _subMesh.AsSpan(_start[node], _start[node + 1] - _start[node]);
}
