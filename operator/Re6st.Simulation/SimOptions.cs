namespace Re6st.Simulation;

public sealed record SimOptions
{
    public int Nodes { get; init; } = 1000;

    public int Order { get; init; } = 1;

    public int Arrows { get; init; } = 10;

    public ulong Seed { get; init; } = 1;

    public int Regions { get; init; } = 8;

    /// <summary>Sampled pairs for stretch and distance.</summary>
    public int Pairs { get; init; } = 1000;

    /// <summary>Sampled pairs for each resilience, crisis and churn measurement.</summary>
    public int ScenarioPairs { get; init; } = 400;

    public IReadOnlyList<double> LossPercents { get; init; } = [20, 50, 80, 90];

    public int ChurnPeriods { get; init; } = 5;

    public bool AllPairs { get; init; }

    /// <summary>Up to this many nodes, routing tables come from the literal propagation model, not the formula.</summary>
    public int PropagateUpTo { get; init; } = 20_000;
}
