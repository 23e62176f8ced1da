namespace Re6st.Simulation;

/// <summary>The simulator's figures. JSON names are stable: scripts read them.</summary>
public sealed record SimReport
{
    public int Nodes { get; init; }

    public int Order { get; init; }

    public int Arrows { get; init; }

    public ulong Seed { get; init; }

    public IReadOnlyList<int> SubMeshes { get; init; } = [];

    public int Regions { get; init; }

    public long ArrowCount { get; init; }

    public int Bridges { get; init; }

    public required RouteStats Routes { get; init; }

    public required StretchStats Stretch { get; init; }

    public required DistanceStats Distance { get; init; }

    public IReadOnlyList<ResiliencePoint> Resilience { get; init; } = [];

    public required CrisisStats Crisis { get; init; }

    public required ChurnStats Churn { get; init; }

    public double ElapsedSeconds { get; init; }

    public double PeakMemoryMB { get; init; }

    public IReadOnlyList<string> Notes { get; init; } = [];
}

public sealed record Distribution(double Mean, double P50, double P99, double Max, int Count)
{
    public static Distribution Of(IReadOnlyList<int> values)
    {
        if (values.Count == 0)
        {
            return new Distribution(0, 0, 0, 0, 0);
        }

        var sorted = values.Order().ToArray();
        return new Distribution(
            Math.Round(sorted.Average(v => (double)v), 2),
            Percentile(sorted, 0.50),
            Percentile(sorted, 0.99),
            sorted[^1],
            sorted.Length);
    }

    public static double Percentile(int[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1 < 0 ? 0 : (int)Math.Ceiling(q * sorted.Length) - 1)];
}

public sealed record RouteStats(
    double Mean,
    double P50,
    double P99,
    double Max,
    double Theory,
    string Method,
    Distribution MembersOnly,
    Distribution BridgesOnly,
    int SplitSubMeshes,
    int ModelMismatches,
    IReadOnlyList<string> Leaks);

public sealed record StretchStats(double Median, double P90, double Mean, int Pairs, int Unreachable);

public sealed record DistanceStats(double Mean, bool Exact, double Pairs, double SampledMean, double RoutedMean, double FlatMean);

public sealed record ResiliencePoint(double LossPercent, double Connected, double FlatConnected);

public sealed record CrisisCase(string Name, string Description, double Random, double Grouped);

public sealed record CrisisStats(double Random, double Grouped, IReadOnlyList<CrisisCase> Cases);

public sealed record ChurnStats(
    int Periods,
    double DestroyedShare,
    long Destroyed,
    long Drained,
    long ForcedAfterMaxDrain,
    long DestroyedAtOnce,
    long MostUsedSpared,
    double ConnectedMean,
    double ConnectedMin,
    double WithoutReplacementMean);
