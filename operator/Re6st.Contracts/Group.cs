namespace Re6st.Contracts;

public static class Group
{
    public const string Name = "re6st.io";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Name + "/" + Version;

    /// <summary>The resource of the MeshNodes (one per host and mesh, named by <see cref="MeshNodeName"/>).</summary>
    public const string MeshNodePlural = "meshnodes";

    /// <summary>Label on every MeshNode: the mesh it belongs to.</summary>
    public const string MeshLabel = "re6st.io/mesh";

    /// <summary>Label on every MeshNode: the Kubernetes Node it is for.</summary>
    public const string NodeLabel = "re6st.io/node";

    /// <summary>
    /// Prefix of one label per sub-mesh a MeshNode speaks in ("sub.re6st.io/3.17": "home" or
    /// "bridge"), so an agent lists only the MeshNodes of its own sub-meshes.
    /// </summary>
    public const string SubMeshLabelPrefix = "sub.re6st.io/";

    /// <summary>Annotation of a mesh's Babel key Secret: the id of the key that signs (every key listed is accepted).</summary>
    public const string SigningKeyAnnotation = "re6st.io/signing-key";

    /// <summary>The name of the MeshNode of <paramref name="node"/> in <paramref name="mesh"/>.</summary>
    public static string MeshNodeName(string node, string mesh) => $"{node}.{mesh}";

    public const string Finalizer = "re6st.io/cleanup";

    public const string DurationPattern = @"^[-+]?([0-9]+(\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+$|^0$";
    public const string Ipv6CidrPattern = @"^[0-9a-fA-F:.]+/[0-9]{1,3}$";
    public const string Ipv4CidrPattern = @"^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$";
    public const string NamePattern = @"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
}
