using System.Text.Json.Serialization;
using Re6st.Contracts;

namespace Re6st.Agent.Kube;

/// <summary>The metadata fields the agent reads (objectmeta's wire shape; the rest is ignored).</summary>
public sealed class ObjectMeta
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("namespace")]
    public string? Namespace { get; set; }

    [JsonPropertyName("uid")]
    public string? Uid { get; set; }

    [JsonPropertyName("resourceVersion")]
    public string? ResourceVersion { get; set; }

    [JsonPropertyName("generation")]
    public long? Generation { get; set; }

    [JsonPropertyName("labels")]
    public Dictionary<string, string>? Labels { get; set; }

    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; set; }

    [JsonPropertyName("deletionTimestamp")]
    public string? DeletionTimestamp { get; set; }
}

/// <summary>Any object, of which the agent reads only the metadata (its DaemonSet: is it still there, or being deleted?).</summary>
public sealed class MetadataObject
{
    [JsonPropertyName("metadata")]
    public ObjectMeta Metadata { get; set; } = new();
}

/// <summary>A MeshNode as the agent reads it: the operator's spec and the hosts' status (the shared resource types).</summary>
public sealed class MeshNodeObject
{
    [JsonPropertyName("metadata")]
    public ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public MeshNodeSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public MeshNodeStatus? Status { get; set; }
}

/// <summary>A Secret: its values arrive base64-encoded, which the serializer decodes into bytes.</summary>
public sealed class SecretObject
{
    [JsonPropertyName("metadata")]
    public ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("data")]
    public Dictionary<string, byte[]>? Data { get; set; }
}

/// <summary>A list response: the items and the resourceVersion to watch from.</summary>
public sealed class ObjectList<T>
{
    [JsonPropertyName("metadata")]
    public ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public List<T> Items { get; set; } = [];
}

public sealed class ListMeta
{
    [JsonPropertyName("resourceVersion")]
    public string ResourceVersion { get; set; } = "";
}

/// <summary>One line of a watch stream: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR, and the object.</summary>
public sealed class WatchEvent<T>
{
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    [JsonPropertyName("object")]
    public T? Item { get; set; }
}
