using System.Text.Json.Serialization;
using Re6st.Contracts;

namespace Re6st.Agent.Kube;

/// <summary>
/// The API objects the agent exchanges with the API server, serialized by generated code. Null
/// fields are left out; the status patch names the fields to remove (see
/// <see cref="Membership.MeshNodeMembershipSource.StatusPatch"/>).
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ObjectList<MeshNodeObject>))]
[JsonSerializable(typeof(WatchEvent<MeshNodeObject>))]
[JsonSerializable(typeof(ObjectList<SecretObject>))]
[JsonSerializable(typeof(WatchEvent<SecretObject>))]
[JsonSerializable(typeof(MetadataObject))]
[JsonSerializable(typeof(MeshNodeStatus))]
internal sealed partial class KubeJsonContext : JsonSerializerContext;
