namespace Re6st.Core.Policy;

/// <summary>
/// The checked randomization policy. The rules are the two principles' parameters
/// (<see cref="ArrowsPerNode"/> random arrows; <see cref="DestroyShare"/> destroyed every
/// <see cref="RefreshPeriod"/>); every other field parameterizes one named exception.
/// </summary>
public sealed record RandomizationPolicy
{
    public static RandomizationPolicy Default { get; } = new();

    public TimeSpan RefreshPeriod { get; init; } = TimeSpan.FromMinutes(5);

    public double DestroyShare { get; init; } = 0.3;

    /// <summary>Null: a draining arrow is never forced (warned about: it breaks "life requires destruction").</summary>
    public TimeSpan? MaxDrain { get; init; } = TimeSpan.FromMinutes(60);

    public double MostUsedShare { get; init; } = 0.2;

    public double MostUsedFactor { get; init; } = 0.5;

    public int ArrowsPerNode { get; init; } = 10;

    public PreferredSubset? Preferred { get; init; }

    public IReadOnlyList<string> BootstrapPeers { get; init; } = [];

    public IReadOnlyList<TechnologyRule> TechnologyRules { get; init; } = [];

    /// <summary>A mesh with at most this many members connects every pair (the random draw is not safe that small).</summary>
    public int SmallMeshSize { get; init; } = 8;
}

public sealed record PreferredSubset(LabelSelector Selector, double Share);

public sealed record TechnologyRule(TunnelTechnology Technology, LabelSelector DenyWhen);
