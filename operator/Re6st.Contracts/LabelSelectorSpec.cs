using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Re6st.Contracts;

/// <summary>A Kubernetes label selector, as in the resources (checked by the core's validators).</summary>
public sealed class LabelSelectorResource
{
    [JsonPropertyName("matchLabels")]
    public Dictionary<string, string>? MatchLabels { get; set; }

    [JsonPropertyName("matchExpressions")]
    public List<LabelRequirementResource>? MatchExpressions { get; set; }

    /// <summary>The label keys this selector reads.</summary>
    public IEnumerable<string> Keys => (MatchLabels?.Keys ?? Enumerable.Empty<string>()).Concat(MatchExpressions?.Select(e => e.Key) ?? []);

    public Core.Policy.LabelSelectorSpec ToCore() => new()
    {
        MatchLabels = MatchLabels,
        MatchExpressions = MatchExpressions?.Select(e => new Core.Policy.LabelRequirementSpec { Key = e.Key, Operator = e.Operator, Values = e.Values }).ToList(),
    };
}

public sealed class LabelRequirementResource
{
    [Required]
    [JsonPropertyName("key")]
    public string Key { get; set; } = "";

    [Required]
    [AllowedValues("In", "NotIn", "Exists", "DoesNotExist")]
    [JsonPropertyName("operator")]
    public string Operator { get; set; } = "";

    [JsonPropertyName("values")]
    public List<string>? Values { get; set; }
}
