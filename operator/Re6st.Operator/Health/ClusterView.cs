using Re6st.Operator.Resources;

namespace Re6st.Operator.Health;

/// <summary>
/// A cluster's re6st installation at one moment, as <c>re6st status</c> and <c>re6st check</c>
/// read it from the API server: what they say is a pure function of this (<see cref="MeshReport"/>,
/// <see cref="InstallationCheck"/>), so the tests build one by hand.
/// </summary>
/// <param name="Now">The reader's clock when it read the rest.</param>
/// <param name="Crds">Each of re6st's CRDs: installed, and the same schema as this re6st's.</param>
/// <param name="Lease">The operator's leader-election Lease, or null when there is none.</param>
/// <param name="OperatorPods">Pods labelled as re6st's operator (none when it runs outside Kubernetes).</param>
/// <param name="AgentPods">Pods labelled as re6st's agent (none when the agents run outside Kubernetes).</param>
/// <param name="Meshes">Each mesh with its policy and its MeshNodes.</param>
public sealed record ClusterView(
    DateTimeOffset Now,
    IReadOnlyList<CrdView> Crds,
    LeaseView? Lease,
    IReadOnlyList<PodView> OperatorPods,
    IReadOnlyList<PodView> AgentPods,
    IReadOnlyList<MeshView> Meshes);

/// <param name="Name">The CRD's name (meshes.re6st.io).</param>
/// <param name="Installed">Whether the API server has it.</param>
/// <param name="Difference">Where its schema differs from this re6st's (null when the same, or when not installed).</param>
public sealed record CrdView(string Name, bool Installed, string? Difference);

/// <param name="Holder">The replica that holds it.</param>
/// <param name="Renewed">When the holder last renewed it (the API server's clock).</param>
/// <param name="Duration">How long a renewal holds.</param>
public sealed record LeaseView(string Namespace, string Name, string? Holder, DateTimeOffset? Renewed, TimeSpan Duration);

/// <param name="Node">The node it is scheduled on (null while pending).</param>
/// <param name="Ready">Its Ready condition.</param>
public sealed record PodView(string Namespace, string Name, string? Node, bool Ready);

/// <param name="Policy">The RandomizationPolicy the mesh names (null when it does not exist).</param>
/// <param name="Nodes">The mesh's MeshNodes.</param>
public sealed record MeshView(V1Alpha1Mesh Mesh, string PolicyName, V1Alpha1RandomizationPolicy? Policy, IReadOnlyList<V1Alpha1MeshNode> Nodes)
{
    public string Name => Mesh.Metadata.Name;

    /// <summary>
    /// Each host's region (topology.kubernetes.io/region) as its Node says, for the picture's labels:
    /// a MeshNode copies only the labels its policy reads. Empty when the reader may not list Nodes.
    /// </summary>
    public IReadOnlyDictionary<string, string> Regions { get; init; } = new Dictionary<string, string>();

    /// <summary>The mesh's Babel key Secret; null when it was not read.</summary>
    public KeyView? Key { get; init; }
}

/// <summary>A mesh's Babel key Secret as <c>re6st check</c> reads it: the keys' ids, never their values.</summary>
/// <param name="Secret">Its namespace/name.</param>
/// <param name="Exists">Whether the API server has it.</param>
/// <param name="SigningKey">The id its annotation names as the key that signs.</param>
/// <param name="Keys">The ids it holds: the keys the mesh accepts.</param>
/// <param name="Unreadable">Why the reader could not read it (say, forbidden), or null.</param>
public sealed record KeyView(string Secret, bool Exists, string? SigningKey, IReadOnlyList<string> Keys, string? Unreadable = null);
