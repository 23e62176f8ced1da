using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Re6st.Contracts;

/// <summary>A status condition (metav1.Condition's shape): Ready, Degraded or Progressing.</summary>
public sealed class Condition
{
    [Required]
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    [Required]
    [AllowedValues("True", "False", "Unknown")]
    [JsonPropertyName("status")]
    public string Status { get; set; } = "Unknown";

    [Description("Generation of the resource this condition was computed from.")]
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("lastTransitionTime")]
    public DateTime? LastTransitionTime { get; set; }

    [Description("One CamelCase word saying why.")]
    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    [Description("What a person should know, naming the field and the reason when something is wrong.")]
    [JsonPropertyName("message")]
    public string? Message { get; set; }
}
