namespace Re6st.Core.Policy;

/// <summary>
/// The RandomizationPolicy as declared by a user (durations as strings, everything optional:
/// a missing field takes its default). <see cref="PolicyValidator"/> turns it into a
/// <see cref="RandomizationPolicy"/> or explains every problem.
/// </summary>
public sealed record RandomizationPolicySpec
{
    public string? RefreshPeriod { get; init; }

    public double? DestroyShare { get; init; }

    /// <summary>A duration, or "never" (which breaks "life requires destruction" and is warned about).</summary>
    public string? MaxDrain { get; init; }

    public double? MostUsedShare { get; init; }

    public double? MostUsedFactor { get; init; }

    public int? ArrowsPerNode { get; init; }

    public PreferredSubsetSpec? Preferred { get; init; }

    public IReadOnlyList<string>? BootstrapPeers { get; init; }

    public IReadOnlyList<TechnologyRuleSpec>? TechnologyRules { get; init; }

    public int? SmallMeshSize { get; init; }
}

public sealed record PreferredSubsetSpec
{
    public LabelSelectorSpec? Selector { get; init; }

    public double? Share { get; init; }
}

/// <summary>"Do not use <see cref="Technology"/> on an arrow when either end matches <see cref="DenyWhen"/>."</summary>
public sealed record TechnologyRuleSpec
{
    public string? Technology { get; init; }

    public LabelSelectorSpec? DenyWhen { get; init; }
}
