using Re6st.Core.Planning;

namespace Re6st.Agent.Babel;

/// <summary>
/// One interface babeld speaks on: an arrow's tunnel, or a name of the arrow pool that has no
/// tunnel yet (babeld keeps it down until the interface appears).
/// </summary>
public sealed record BabelInterfaceConfig(string Name)
{
    /// <summary>Overrides the config's hello interval for this interface.</summary>
    public TimeSpan? HelloInterval { get; init; }

    /// <summary>Cost of receiving on this interface with no loss; babeld's default for tunnels is 96.</summary>
    public int? RxCost { get; init; }

    /// <summary>Overrides the config's default key; null keeps the default.</summary>
    public string? KeyId { get; init; }

    /// <summary>Out-filters of the sub-mesh this interface belongs to.</summary>
    public IReadOnlyList<RouteFilter> DenyOut { get; init; } = [];
}
