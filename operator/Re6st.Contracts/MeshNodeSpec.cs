using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;

namespace Re6st.Contracts;

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

    [Description("This host's pod ranges, inside its prefixes, when the mesh carries pods.")]
    [JsonPropertyName("podNetwork")]
    public MeshNodePodNetwork? PodNetwork { get; set; }

    /// <summary>The plan the operator wrote, back as the core's value (the reverse of building the spec from it).</summary>
    public NodePlan ToPlan() => new(
        Node,
        HomeSubMesh,
        IpPrefix.Parse(Ipv6Prefix),
        Ipv4Prefix is null ? null : IpPrefix.Parse(Ipv4Prefix),
        [.. Memberships.Select(m => m.ToCore())],
        PodNetwork?.ToCore());

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

    /// <summary>The namespace and name a <see cref="KeySecret"/> reference ("namespace/name") names; null when it is not of that form.</summary>
    public static (string Namespace, string Name)? SecretOf(string? keySecret) =>
        keySecret?.Split('/') is [{ Length: > 0 } space, { Length: > 0 } name] ? (space, name) : null;
}

public sealed class MeshNodePodNetwork
{
    [Required]
    [JsonPropertyName("ipv6Range")]
    public string Ipv6Range { get; set; } = "";

    [JsonPropertyName("ipv4Range")]
    public string? Ipv4Range { get; set; }

    [Description("The mesh's IPv6 range: pod packets to it keep their source address, to anywhere else the host masquerades them.")]
    [Required]
    [JsonPropertyName("meshIpv6Range")]
    public string MeshIpv6Range { get; set; } = "";

    [JsonPropertyName("meshIpv4Range")]
    public string? MeshIpv4Range { get; set; }

    public static MeshNodePodNetwork FromCore(PodRanges pods)
    {
        ArgumentNullException.ThrowIfNull(pods);
        return new MeshNodePodNetwork
        {
            Ipv6Range = pods.Ipv6.ToString(),
            Ipv4Range = pods.Ipv4?.ToString(),
            MeshIpv6Range = pods.MeshIpv6.ToString(),
            MeshIpv4Range = pods.MeshIpv4?.ToString(),
        };
    }

    public PodRanges ToCore() => new(
        IpPrefix.Parse(Ipv6Range),
        Ipv4Range is null ? null : IpPrefix.Parse(Ipv4Range),
        IpPrefix.Parse(MeshIpv6Range),
        MeshIpv4Range is null ? null : IpPrefix.Parse(MeshIpv4Range));
}
