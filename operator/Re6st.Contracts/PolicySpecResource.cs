using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Re6st.Core.Policy;

namespace Re6st.Contracts;

public sealed class PolicySpecResource
{
    [RegularExpression(Group.DurationPattern)]
    [Description("Every period a share of each node's arrows is destroyed and replaced (default 5m).")]
    [JsonPropertyName("refreshPeriod")]
    public string? RefreshPeriod { get; set; }

    [Range(0.0, 1.0)]
    [Description("Share of arrows destroyed each period, at random, good ones included (default 0.3).")]
    [JsonPropertyName("destroyShare")]
    public double? DestroyShare { get; set; }

    [RegularExpression("^never$|" + Group.DurationPattern)]
    [Description("An arrow in use is drained first, and destroyed at the latest after this (default 60m).")]
    [JsonPropertyName("maxDrain")]
    public string? MaxDrain { get; set; }

    [Range(0.0, 1.0)]
    [Description("Share of arrows carrying the most routes that are destroyed less often (default 0.2).")]
    [JsonPropertyName("mostUsedShare")]
    public double? MostUsedShare { get; set; }

    [Range(0.0, 1.0)]
    [Description("Their destruction probability, as a factor of the normal one (default 0.5).")]
    [JsonPropertyName("mostUsedFactor")]
    public double? MostUsedFactor { get; set; }

    [Range(1, 256)]
    [Description("Arrows each node draws at random in each sub-mesh it belongs to (default 10).")]
    [JsonPropertyName("arrowsPerNode")]
    public int? ArrowsPerNode { get; set; }

    [Description("Exception: a share of the draws come from this subset (e.g. well-known datacenters).")]
    [JsonPropertyName("preferred")]
    public PreferredResource? Preferred { get; set; }

    [Description("Exception: nodes a new node connects to first, so it can join.")]
    [JsonPropertyName("bootstrapPeers")]
    public List<string>? BootstrapPeers { get; set; }

    [Description("Exception: a technology is not used on an arrow when either end matches the selector.")]
    [JsonPropertyName("technologyRules")]
    public List<TechnologyRuleResource>? TechnologyRules { get; set; }

    [Range(0, 64)]
    [Description("Exception: a sub-mesh with at most this many members connects every pair (default 8).")]
    [JsonPropertyName("smallMeshSize")]
    public int? SmallMeshSize { get; set; }

    /// <summary>The node label keys the exceptions' selectors read (preferred subset, technology rules).</summary>
    public IEnumerable<string> SelectorKeys() =>
        (Preferred?.Selector?.Keys ?? []).Concat(TechnologyRules?.SelectMany(r => r.DenyWhen?.Keys ?? []) ?? []).Distinct(StringComparer.Ordinal);

    public RandomizationPolicySpec ToCore() => new()
    {
        RefreshPeriod = RefreshPeriod,
        DestroyShare = DestroyShare,
        MaxDrain = MaxDrain,
        MostUsedShare = MostUsedShare,
        MostUsedFactor = MostUsedFactor,
        ArrowsPerNode = ArrowsPerNode,
        Preferred = Preferred is null ? null : new PreferredSubsetSpec { Selector = Preferred.Selector?.ToCore(), Share = Preferred.Share },
        BootstrapPeers = BootstrapPeers,
        TechnologyRules = TechnologyRules?.Select(r => new TechnologyRuleSpec { Technology = r.Technology, DenyWhen = r.DenyWhen?.ToCore() }).ToList(),
        SmallMeshSize = SmallMeshSize,
    };

    /// <summary>The checked policy written back with every default filled in: what MeshNodes carry.</summary>
    public static PolicySpecResource FromCore(RandomizationPolicy policy, PolicySpecResource declared)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(declared);
        return new PolicySpecResource
        {
            RefreshPeriod = GoDuration.Format(policy.RefreshPeriod),
            DestroyShare = policy.DestroyShare,
            MaxDrain = policy.MaxDrain is { } d ? GoDuration.Format(d) : "never",
            MostUsedShare = policy.MostUsedShare,
            MostUsedFactor = policy.MostUsedFactor,
            ArrowsPerNode = policy.ArrowsPerNode,
            Preferred = declared.Preferred,
            BootstrapPeers = [.. policy.BootstrapPeers],
            TechnologyRules = declared.TechnologyRules,
            SmallMeshSize = policy.SmallMeshSize,
        };
    }
}

public sealed class PreferredResource
{
    [Required]
    [JsonPropertyName("selector")]
    public LabelSelectorResource? Selector { get; set; }

    [Range(0.0, 1.0)]
    [Description("Share of the draws taken from the subset (default 0.3).")]
    [JsonPropertyName("share")]
    public double? Share { get; set; }
}

public sealed class TechnologyRuleResource
{
    [Required]
    [AllowedValues("wireguard", "openvpn")]
    [JsonPropertyName("technology")]
    public string Technology { get; set; } = "";

    [Required]
    [JsonPropertyName("denyWhen")]
    public LabelSelectorResource? DenyWhen { get; set; }
}
