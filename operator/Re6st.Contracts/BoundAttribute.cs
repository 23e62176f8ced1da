namespace Re6st.Contracts;

/// <summary>
/// The most items a list field, or characters a string field, may hold: maxItems or maxLength in
/// the CRD's schema. DataAnnotations' MaxLength would do the same, but it reads Count by reflection
/// and the agent is trimmed (IL2026).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class BoundAttribute(int max) : Attribute
{
    public int Max { get; } = max;
}
