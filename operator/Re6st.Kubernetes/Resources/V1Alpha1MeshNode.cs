using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
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
    public const string Plural = "meshnodes";

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

    public static string NameFor(string node, string mesh) => $"{node}.{mesh}";
}

public sealed class MeshNodeSpec
{
    [Required]
    [JsonPropertyName("mesh")]
    public string Mesh { get; set; } = "";

    [Required]
    [JsonPropertyName("node")]
    public string Node { get; set; } = "";

    [Required]
    [AllowedValues("member", "bridge")]
    [JsonPropertyName("role")]
    public string Role { get; set; } = "member";

    [Required]
    [JsonPropertyName("homeSubMesh")]
    public string HomeSubMesh { get; set; } = "";

    [Required]
    [JsonPropertyName("ipv6Prefix")]
    public string Ipv6Prefix { get; set; } = "";

    [JsonPropertyName("ipv4Prefix")]
    public string? Ipv4Prefix { get; set; }

    [Description("The sub-meshes this host's Babel speaks in: its home first, then one per bridge role.")]
    [JsonPropertyName("memberships")]
    public List<MembershipResource> Memberships { get; set; } = [];

    [Description("The mesh's policy with every default filled in.")]
    [JsonPropertyName("policy")]
    public PolicySpecResource Policy { get; set; } = new();

    [JsonPropertyName("technologies")]
    public List<TechnologyName> Technologies { get; set; } = [];

    [Description("The node's weight in bridge elections (its re6st.io/capacity label; default 1).")]
    [JsonPropertyName("capacity")]
    public double? Capacity { get; set; }

    [Description("The labels of the Node that the policy's selectors read (preferred subset, technology rules), so peers can match this host.")]
    [JsonPropertyName("nodeLabels")]
    public Dictionary<string, string>? NodeLabels { get; set; }

    [JsonPropertyName("babel")]
    public MeshNodeBabel Babel { get; set; } = new();

    /// <summary>The plan the operator wrote, back as the core's value (the reverse of building the spec from it).</summary>
    public NodePlan ToPlan() => new(
        Node,
        HomeSubMesh,
        IpPrefix.Parse(Ipv6Prefix),
        Ipv4Prefix is null ? null : IpPrefix.Parse(Ipv4Prefix),
        [.. Memberships.Select(m => m.ToCore())]);

    /// <summary>What the core needs to know of this host as a peer: the technologies it runs, its capacity and the labels selectors read.</summary>
    public NodeInfo ToNodeInfo() => new(
        Node,
        NodeLabels is { Count: > 0 } labels ? new Dictionary<string, string>(labels) : NodeInfo.NoLabels,
        Capacity ?? 1,
        Technologies.ToCore());
}

public sealed class MembershipResource
{
    [Required]
    [JsonPropertyName("subMesh")]
    public string SubMesh { get; set; } = "";

    [Required]
    [AllowedValues("home", "bridge")]
    [JsonPropertyName("role")]
    public string Role { get; set; } = "home";

    [JsonPropertyName("bridgeLevel")]
    public int? BridgeLevel { get; set; }

    [JsonPropertyName("ipv6Range")]
    public string Ipv6Range { get; set; } = "";

    [JsonPropertyName("ipv4Range")]
    public string? Ipv4Range { get; set; }

    [Description("Prefixes this host originates in this sub-mesh: its own (home) and the aggregates it bridges in.")]
    [JsonPropertyName("announce")]
    public List<string> Announce { get; set; } = [];

    [Description("Babel out-filters on this host's arrows in this sub-mesh.")]
    [JsonPropertyName("denyOut")]
    public List<RouteFilterResource> DenyOut { get; set; } = [];

    public const string HomeRole = "home";
    public const string BridgeRole = "bridge";

    public static MembershipResource FromCore(MembershipPlan membership)
    {
        ArgumentNullException.ThrowIfNull(membership);
        return new MembershipResource
        {
            SubMesh = membership.SubMesh,
            Role = membership.Role == MembershipRole.Home ? HomeRole : BridgeRole,
            BridgeLevel = membership.BridgeLevel,
            Ipv6Range = membership.Ipv6Range.ToString(),
            Ipv4Range = membership.Ipv4Range?.ToString(),
            Announce = [.. membership.Announce.Select(a => a.ToString())],
            DenyOut = [.. membership.DenyOut.Select(RouteFilterResource.FromCore)],
        };
    }

    public MembershipPlan ToCore() => new(
        SubMesh,
        Role == BridgeRole ? MembershipRole.Bridge : MembershipRole.Home,
        BridgeLevel,
        IpPrefix.Parse(Ipv6Range),
        Ipv4Range is null ? null : IpPrefix.Parse(Ipv4Range),
        [.. Announce.Select(IpPrefix.Parse)],
        [.. DenyOut.Select(f => f.ToCore())]);
}

public sealed class RouteFilterResource
{
    [JsonPropertyName("prefix")]
    public string Prefix { get; set; } = "";

    [AllowedValues("exact", "moreSpecific")]
    [JsonPropertyName("match")]
    public string Match { get; set; } = "exact";

    public static RouteFilterResource FromCore(RouteFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return new RouteFilterResource { Prefix = filter.Prefix.ToString(), Match = filter.Match == FilterMatch.Exact ? "exact" : "moreSpecific" };
    }

    public RouteFilter ToCore() => new(IpPrefix.Parse(Prefix), Match == "moreSpecific" ? FilterMatch.MoreSpecific : FilterMatch.Exact);
}

public sealed class MeshNodeBabel
{
    [JsonPropertyName("helloInterval")]
    public string HelloInterval { get; set; } = "4s";

    [Description("Namespace/name of the Secret with the HMAC keys; every key listed there is accepted, the newest signs.")]
    [JsonPropertyName("keySecret")]
    public string? KeySecret { get; set; }
}

public sealed class MeshNodeStatus
{
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("conditions")]
    public List<Condition>? Conditions { get; set; }

    [Description("The host's WireGuard public key (base64).")]
    [JsonPropertyName("publicKey")]
    public string? PublicKey { get; set; }

    [Description("The host's OpenVPN certificate fingerprint (SHA-256), pinned by peers; absent when it runs no OpenVPN.")]
    [JsonPropertyName("openVpnFingerprint")]
    public string? OpenVpnFingerprint { get; set; }

    [Description("Tunnel technologies the host's agent found it can run.")]
    [JsonPropertyName("technologies")]
    public List<TechnologyName>? Technologies { get; set; }

    [Description("Underlay addresses other hosts reach this one at; the port of each arrow this host opened is in arrows[].port.")]
    [JsonPropertyName("endpoints")]
    public List<string>? Endpoints { get; set; }

    [JsonPropertyName("arrows")]
    public List<ArrowStatusResource>? Arrows { get; set; }

    [JsonPropertyName("arrowCount")]
    public int? ArrowCount { get; set; }

    [Description("Installed routes (the routing-table size).")]
    [JsonPropertyName("routes")]
    public int? Routes { get; set; }
}

/// <summary>
/// One arrow at this host. Its initiator lists it with the port its end listens on (the far end
/// connects there and accepts it only while it is listed); the far end lists it as accepted, with
/// the routes it carries there (an arrow is in use while either end routes over it).
/// </summary>

public sealed class ArrowStatusResource
{
    [Description("The arrow's id, given by the host that opened it; both ends know the arrow by it.")]
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("peer")]
    public string Peer { get; set; } = "";

    [JsonPropertyName("subMesh")]
    public string SubMesh { get; set; } = "";

    [Description("True when this host opened the arrow, false when it accepted it from the peer.")]
    [JsonPropertyName("initiated")]
    public bool Initiated { get; set; }

    [Range(1, 65535)]
    [Description("Underlay UDP port this host's end listens on (arrows it opened).")]
    [JsonPropertyName("port")]
    public int? Port { get; set; }

    [AllowedValues("active", "draining")]
    [Description("Draining: routes are moving away before the arrow is destroyed (set by the initiator).")]
    [JsonPropertyName("state")]
    public string? State { get; set; }

    [AllowedValues("wireguard", "openvpn")]
    [JsonPropertyName("technology")]
    public string? Technology { get; set; }

    [JsonPropertyName("cost")]
    public int? Cost { get; set; }

    [Description("Round-trip time measured inside the tunnel, in milliseconds.")]
    [JsonPropertyName("rttMs")]
    public double? RttMs { get; set; }

    [Description("Installed routes whose next hop is over this arrow.")]
    [JsonPropertyName("routes")]
    public int? Routes { get; set; }
}
