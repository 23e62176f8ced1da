using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Core.Policy;

namespace Re6st.Operator.Resources;

[KubernetesEntity(Group = Group.Name, ApiVersion = Group.Version, Kind = "RandomizationPolicy", PluralName = "randomizationpolicies")]
[Description("The rules of a mesh (random selection, random destruction every period) and the parameters of their exceptions.")]
[PrinterColumn("Period", "string", ".spec.refreshPeriod")]
[PrinterColumn("Destroy", "number", ".spec.destroyShare")]
[PrinterColumn("Arrows", "integer", ".spec.arrowsPerNode")]
[PrinterColumn("Valid", "string", ".status.conditions[?(@.type==\"Ready\")].status")]
[PrinterColumn("Warnings", "integer", ".status.warningCount")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
public sealed class V1Alpha1RandomizationPolicy : IKubernetesObject<V1ObjectMeta>, ISpec<PolicySpecResource>, IStatus<PolicyStatus?>
{
    public const string KindName = "RandomizationPolicy";
    public const string Plural = "randomizationpolicies";

    /// <summary>The policy a Mesh follows when it names none.</summary>
    public const string DefaultName = "default";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = Group.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KindName;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public PolicySpecResource Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public PolicyStatus? Status { get; set; }
}

public sealed class PolicyStatus
{
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("conditions")]
    public List<Condition>? Conditions { get; set; }

    [Description("Settings that weaken a principle, each naming the field and the principle.")]
    [JsonPropertyName("warnings")]
    public List<string>? Warnings { get; set; }

    [JsonPropertyName("warningCount")]
    public int? WarningCount { get; set; }
}
