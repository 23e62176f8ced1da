using Re6st.Core.Arrows;

namespace Re6st.Agent.Lifecycle;

/// <summary>
/// What the principles did at this host since the agent started, published in its status so that
/// <c>re6st check</c> can audit them on the live mesh: how many arrows faced the destruction draw at
/// the end of each period and how many it destroyed or the most-used exception spared, how long the
/// periods really ran, and which selection step chose each arrow this host opened. Pure: the agent
/// hands it the moments and decisions.
/// </summary>
public sealed class ChurnCounters(DateTimeOffset since)
{
    private readonly SortedDictionary<string, int> _created = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _removed = new(StringComparer.Ordinal);
    private DateTimeOffset? _firstEnd;
    private DateTimeOffset? _lastEnd;
    private int _periods;
    private int _drawn;
    private int _destroyed;
    private int _spared;

    /// <summary>The name of a selection step, as metrics, traces and the status spell it.</summary>
    public static string Name(SelectionReason reason) => reason switch
    {
        SelectionReason.SmallMesh => "small-mesh",
        _ => reason.ToString().ToLowerInvariant(),
    };

    public void PeriodEnded(DateTimeOffset now)
    {
        _periods++;
        _firstEnd ??= now;
        _lastEnd = now;
    }

    /// <summary>The draw's decision on an active arrow at the end of a period.</summary>
    public void Drawn(ArrowDecision decision)
    {
        _drawn++;
        if (decision.Drawn)
        {
            _destroyed++;
        }
        else if (decision.Reason == DecisionReason.MostUsedSpared)
        {
            _spared++;
        }
    }

    public void Created(SelectionReason reason) => Add(_created, Name(reason));

    /// <summary>An arrow of this host removed, for <paramref name="reason"/> (RemovalReason's name: random, drained, dead, closed-by-peer...).</summary>
    public void Removed(string reason) => Add(_removed, reason);

    private static void Add(SortedDictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

    public ChurnFigures Figures() => new(
        since,
        _periods,
        _drawn,
        _destroyed,
        _spared,
        _periods >= 2 ? Math.Round((_lastEnd!.Value - _firstEnd!.Value).TotalSeconds / (_periods - 1), 2) : null,
        new SortedDictionary<string, int>(_created, StringComparer.Ordinal))
    {
        Removed = new SortedDictionary<string, int>(_removed, StringComparer.Ordinal),
    };
}

/// <summary>The figures of <see cref="ChurnCounters"/> at one moment (see <c>ChurnStatusResource</c>).</summary>
public sealed record ChurnFigures(
    DateTimeOffset Since,
    int Periods,
    int Drawn,
    int Destroyed,
    int Spared,
    double? PeriodSeconds,
    IReadOnlyDictionary<string, int> Created)
{
    /// <summary>Arrows of this host removed since then, by reason.</summary>
    public IReadOnlyDictionary<string, int> Removed { get; init; } = new Dictionary<string, int>();
}
