namespace Re6st.Core.Policy;

/// <summary>A Kubernetes label selector as declared (matchLabels and matchExpressions).</summary>
public sealed record LabelSelectorSpec
{
    public IReadOnlyDictionary<string, string>? MatchLabels { get; init; }

    public IReadOnlyList<LabelRequirementSpec>? MatchExpressions { get; init; }
}

public sealed record LabelRequirementSpec
{
    public string? Key { get; init; }

    /// <summary>In, NotIn, Exists or DoesNotExist.</summary>
    public string? Operator { get; init; }

    public IReadOnlyList<string>? Values { get; init; }
}
