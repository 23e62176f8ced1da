using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Core.Policy;

namespace Re6st.Operator.Resources;

[KubernetesEntity(Group = Group.Name, ApiVersion = Group.Version, Kind = "Mesh", PluralName = "meshes")]
[Description("A random mesh of tunnels between the selected nodes, routed by Babel.")]
[PrinterColumn("Nodes", "integer", ".status.nodes")]
[PrinterColumn("Routed", "integer", ".status.readyHosts")]
[PrinterColumn("Arrows", "integer", ".status.arrows")]
[PrinterColumn("Order", "integer", ".spec.order")]
[PrinterColumn("SubMeshes", "integer", ".status.subMeshCount", Priority = 1)]
[PrinterColumn("Bridges", "integer", ".status.bridges", Priority = 1)]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status")]
[PrinterColumn("Reason", "string", ".status.conditions[?(@.type==\"Ready\")].reason", Priority = 1)]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
public sealed class V1Alpha1Mesh : IKubernetesObject<V1ObjectMeta>, ISpec<MeshSpecResource>, IStatus<MeshStatus?>
{
    public const string KindName = "Mesh";
    public const string Plural = "meshes";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = Group.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KindName;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [Required]
    [JsonPropertyName("spec")]
    public MeshSpecResource Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public MeshStatus? Status { get; set; }
}

public sealed class MeshSpecResource
{
    [Required]
    [RegularExpression(Group.Ipv6CidrPattern)]
    [Description("IPv6 range of the mesh, e.g. fd5e:6e7::/48; node prefixes and sub-mesh aggregates are carved from it.")]
    [JsonPropertyName("ipv6Range")]
    public string Ipv6Range { get; set; } = "";

    [Range(1, 128)]
    [Description("Length of each node's IPv6 prefix (default 64).")]
    [JsonPropertyName("ipv6NodePrefixLength")]
    public int? Ipv6NodePrefixLength { get; set; }

    [RegularExpression(Group.Ipv4CidrPattern)]
    [Description("Optional IPv4 range; IPv4 routes travel as v4-via-v6, so tunnels need no IPv4 address.")]
    [JsonPropertyName("ipv4Range")]
    public string? Ipv4Range { get; set; }

    [Range(1, 32)]
    [Description("Length of each node's IPv4 prefix (default 32).")]
    [JsonPropertyName("ipv4NodePrefixLength")]
    public int? Ipv4NodePrefixLength { get; set; }

    [Range(1, 3)]
    [Description("1: one mesh; 2 or 3: random sub-meshes joined by elected bridges (tables of about K·N^(1/K) routes).")]
    [JsonPropertyName("order")]
    public int? Order { get; set; }

    [MaxLength(2)]
    [Description("For order K, K-1 numbers: how many sub-meshes each level splits into. Or set expectedNodes.")]
    [JsonPropertyName("subMeshes")]
    public List<int>? SubMeshes { get; set; }

    [Range(1, 100_000_000)]
    [Description("When subMeshes is not given: the size the layout is made for (each level splits into the K-th root).")]
    [JsonPropertyName("expectedNodes")]
    public int? ExpectedNodes { get; set; }

    [Range(0.0, 1.0)]
    [Description("Share of each sub-mesh's nodes elected as bridges, at random weighted by capacity (default 0.1).")]
    [JsonPropertyName("bridgeShare")]
    public double? BridgeShare { get; set; }

    [Range(0.0, 1.0)]
    [Description("At each re-election, the share of bridges replaced at random (default 0.3).")]
    [JsonPropertyName("bridgeRenewShare")]
    public double? BridgeRenewShare { get; set; }

    [Range(1, 1000)]
    [Description("Fewest bridges per sub-mesh (default 2).")]
    [JsonPropertyName("minBridges")]
    public int? MinBridges { get; set; }

    [RegularExpression(Group.DurationPattern)]
    [Description("How often bridges are re-elected (default 1h).")]
    [JsonPropertyName("bridgeReelectionPeriod")]
    public string? BridgeReelectionPeriod { get; set; }

    [Description("Which Nodes take part (all nodes when empty).")]
    [JsonPropertyName("nodeSelector")]
    public LabelSelectorResource? NodeSelector { get; set; }

    [Description("Tunnel technologies arrows may use (default: wireguard and openvpn).")]
    [JsonPropertyName("technologies")]
    public List<TechnologyName>? Technologies { get; set; }

    [Description("Babel settings.")]
    [JsonPropertyName("babel")]
    public BabelSpec? Babel { get; set; }

    [RegularExpression(Group.NamePattern)]
    [Description("Name of the RandomizationPolicy to follow (default: the policy named \"default\", or built-in defaults when there is none).")]
    [JsonPropertyName("policyRef")]
    public string? PolicyRef { get; set; }

    [Description("Pods over the mesh: re6st is the pod IPAM and writes each host's CNI configuration (off by default).")]
    [JsonPropertyName("podNetwork")]
    public PodNetworkResource? PodNetwork { get; set; }

    public Core.Planning.MeshSpec ToCore() => new()
    {
        Ipv6Range = Ipv6Range,
        Ipv6NodePrefixLength = Ipv6NodePrefixLength,
        Ipv4Range = Ipv4Range,
        Ipv4NodePrefixLength = Ipv4NodePrefixLength,
        Order = Order,
        SubMeshes = SubMeshes,
        ExpectedNodes = ExpectedNodes,
        BridgeShare = BridgeShare,
        BridgeRenewShare = BridgeRenewShare,
        MinBridges = MinBridges,
        PodNetwork = PodNetwork is { } pods ? new Core.Planning.PodNetworkSpec { Enabled = pods.Enabled, Ipv6PrefixLength = pods.Ipv6PrefixLength, Ipv4PrefixLength = pods.Ipv4PrefixLength } : null,
    };
}

public sealed class PodNetworkResource
{
    [Description("true: each selected Node gets pod ranges carved from its mesh prefixes (written to Node.spec.podCIDRs) and its agent writes the CNI configuration.")]
    [JsonPropertyName("enabled")]
    public bool? Enabled { get; set; }

    [Range(2, 120)]
    [Description("Length of each node's IPv6 pod range, the last of that length in the node's prefix (default: ipv6NodePrefixLength + 1, its upper half).")]
    [JsonPropertyName("ipv6PrefixLength")]
    public int? Ipv6PrefixLength { get; set; }

    [Range(2, 30)]
    [Description("Length of each node's IPv4 pod range, carved the same way from its IPv4 prefix (default: ipv4NodePrefixLength + 1, which must then be 29 or shorter).")]
    [JsonPropertyName("ipv4PrefixLength")]
    public int? Ipv4PrefixLength { get; set; }
}

public sealed class BabelSpec
{
    [RegularExpression(Group.DurationPattern)]
    [Description("Hello interval on arrows (default 4s; 1s detects a dead arrow faster at more chatter).")]
    [JsonPropertyName("helloInterval")]
    public string? HelloInterval { get; set; }

    [RegularExpression(Group.DurationPattern)]
    [Description("How often the HMAC key is rotated (default 720h); the old key stays accepted for one rotation.")]
    [JsonPropertyName("keyRotationPeriod")]
    public string? KeyRotationPeriod { get; set; }
}

public sealed class MeshStatus
{
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("conditions")]
    public List<Condition>? Conditions { get; set; }

    [Description("Nodes with a place in the mesh.")]
    [JsonPropertyName("nodes")]
    public int? Nodes { get; set; }

    [Description("Hosts whose agents report them routed: a status written within 90 s, babeld answering, an arrow, and a route to every live host homed in their sub-meshes.")]
    [JsonPropertyName("readyHosts")]
    public int? ReadyHosts { get; set; }

    [Description("Arrows the hosts' agents list (each counted once, at the host that opened it).")]
    [JsonPropertyName("arrows")]
    public int? Arrows { get; set; }

    [JsonPropertyName("subMeshCount")]
    public int? SubMeshCount { get; set; }

    [Description("Bridge roles (a node can bridge at more than one level).")]
    [JsonPropertyName("bridges")]
    public int? Bridges { get; set; }

    [Description("Leaf sub-meshes with members (at most 256 listed; see subMeshesTruncated).")]
    [JsonPropertyName("subMeshes")]
    public List<SubMeshStatus>? SubMeshes { get; set; }

    [JsonPropertyName("subMeshesTruncated")]
    public bool? SubMeshesTruncated { get; set; }

    [JsonPropertyName("lastBridgeElection")]
    public DateTime? LastBridgeElection { get; set; }

    [Description("Namespace/name of the Secret holding the Babel HMAC keys.")]
    [JsonPropertyName("keySecret")]
    public string? KeySecret { get; set; }
}

public sealed class SubMeshStatus
{
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    [JsonPropertyName("ipv6Range")]
    public string Ipv6Range { get; set; } = "";

    [JsonPropertyName("ipv4Range")]
    public string? Ipv4Range { get; set; }

    [JsonPropertyName("members")]
    public int Members { get; set; }

    [Description("Bridges from elsewhere that also joined it.")]
    [JsonPropertyName("visitingBridges")]
    public int VisitingBridges { get; set; }
}
