using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;

namespace Re6st.Operator.Resources;

/// <summary>
/// One host's part of one mesh. The operator writes the spec (the plan for this host); the host's
/// agent writes the status (its key, endpoints and arrows). Named "&lt;node&gt;.&lt;mesh&gt;".
/// </summary>
[KubernetesEntity(Group = Group.Name, ApiVersion = Group.Version, Kind = "MeshNode", PluralName = "meshnodes")]
[Description("One host's part of a mesh: its plan (spec, from the operator) and its arrows (status, from its agent).")]
[PrinterColumn("Mesh", "string", ".spec.mesh")]
[PrinterColumn("Node", "string", ".spec.node", Priority = 1)]
[PrinterColumn("Prefix", "string", ".spec.ipv6Prefix")]
[PrinterColumn("SubMesh", "string", ".spec.homeSubMesh")]
[PrinterColumn("Role", "string", ".spec.role")]
[PrinterColumn("Arrows", "integer", ".status.arrowCount")]
[PrinterColumn("Routes", "integer", ".status.routes")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
public sealed class V1Alpha1MeshNode : IKubernetesObject<V1ObjectMeta>, ISpec<MeshNodeSpec>, IStatus<MeshNodeStatus?>
{
    public const string KindName = "MeshNode";
    public const string Plural = Group.MeshNodePlural;

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = Group.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KindName;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [Required]
    [JsonPropertyName("spec")]
    public MeshNodeSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public MeshNodeStatus? Status { get; set; }

    public static string NameFor(string node, string mesh) => Group.MeshNodeName(node, mesh);
}
