using k8s.Models;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Reconcile;

/// <summary>Everything one mesh's plan depends on, read from the informers' caches.</summary>
public sealed record MeshSnapshot(
    V1Alpha1Mesh Mesh,
    V1Alpha1RandomizationPolicy? Policy,
    IReadOnlyList<V1Node> Nodes,
    IReadOnlyList<V1Alpha1MeshNode> MeshNodes,
    string KeySecret,
    DateTime Now)
{
    /// <summary>The other meshes, to refuse overlapping address ranges.</summary>
    public IReadOnlyList<V1Alpha1Mesh> OtherMeshes { get; init; } = [];
}

/// <summary>What the mesh should look like: MeshNodes to write and delete, the status, and events worth telling.</summary>
public sealed record MeshOutcome(
    bool Planned,
    IReadOnlyList<V1Alpha1MeshNode> Desired,
    IReadOnlyList<string> Delete,
    MeshStatus Status,
    IReadOnlyList<OutcomeEvent> Events)
{
    /// <summary>Nodes whose Node.spec.podCIDRs are empty and get the mesh's pod ranges.</summary>
    public IReadOnlyList<NodePodCidrs> PodCidrs { get; init; } = [];
}

public sealed record NodePodCidrs(string Node, IReadOnlyList<string> Cidrs);

public sealed record OutcomeEvent(bool Warning, string Reason, string Message);
