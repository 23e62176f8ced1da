using System.Collections.Immutable;
using Re6st.Core.Addressing;

namespace Re6st.Agent.Babel;

/// <summary>
/// An immutable snapshot of what one babeld knows, as its control socket reported it. While the
/// client is disconnected (babeld restarting) the last snapshot is kept with
/// <see cref="Connected"/> false: the kernel keeps babeld's routes meanwhile, and an empty table
/// would make every arrow look unused to the destruction policy.
/// </summary>
public sealed record BabelState
{
    public static BabelState Empty { get; } = new();

    public bool Connected { get; init; }

    /// <summary>How many times the client completed a connection and initial dump (1 for the first).</summary>
    public int Generation { get; init; }

    public string? Version { get; init; }

    public string? RouterId { get; init; }

    public ImmutableDictionary<string, BabelInterface> Interfaces { get; init; } = ImmutableDictionary<string, BabelInterface>.Empty;

    public ImmutableDictionary<string, BabelNeighbour> Neighbours { get; init; } = ImmutableDictionary<string, BabelNeighbour>.Empty;

    public ImmutableDictionary<string, BabelRoute> Routes { get; init; } = ImmutableDictionary<string, BabelRoute>.Empty;

    public ImmutableDictionary<string, BabelXroute> Xroutes { get; init; } = ImmutableDictionary<string, BabelXroute>.Empty;

    /// <summary>
    /// The size of the routing table babeld maintains: one installed route per reachable prefix
    /// (the unreachable placeholders of lost prefixes are left out, see <see cref="BabelRoute.Carries"/>).
    /// </summary>
    public int InstalledRouteCount => Routes.Values.Count(r => r.Carries);

    /// <summary>Installed routes whose next hop is through <paramref name="interfaceName"/>: an arrow carrying any is in use.</summary>
    public int InstalledRoutesVia(string interfaceName) =>
        Routes.Values.Count(r => r.Carries && r.Interface == interfaceName);

    public IReadOnlyDictionary<string, int> InstalledRoutesByInterface() =>
        Routes.Values.Where(r => r.Carries).GroupBy(r => r.Interface, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public IEnumerable<BabelNeighbour> NeighboursOn(string interfaceName) =>
        Neighbours.Values.Where(n => n.Interface == interfaceName);

    public BabelRoute? InstalledRouteTo(IpPrefix prefix) =>
        Routes.Values.FirstOrDefault(r => r.Carries && r.Prefix == prefix);

    /// <summary>
    /// add and change both upsert: babeld reports a "change" for a route it earlier flushed when the
    /// route comes back, without a new "add".
    /// </summary>
    public BabelState Apply(BabelEntryEvent update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var remove = update.Action == BabelAction.Flush;
        return update.Entry switch
        {
            BabelInterface i => this with { Interfaces = Upsert(Interfaces, i, remove) },
            BabelNeighbour n => this with { Neighbours = Upsert(Neighbours, n, remove) },
            BabelRoute r => this with { Routes = Upsert(Routes, r, remove) },
            BabelXroute x => this with { Xroutes = Upsert(Xroutes, x, remove) },
            _ => this,
        };
    }

    public override string ToString() =>
        $"babeld {(Connected ? "connected" : "disconnected")} (generation {Generation}): {Interfaces.Count(i => i.Value.Up)}/{Interfaces.Count} interfaces up, " +
        $"{Neighbours.Count} neighbours [{string.Join(", ", Neighbours.Values.Select(n => $"{n.Address}%{n.Interface} cost {n.Cost}"))}], " +
        $"{InstalledRouteCount} installed routes [{string.Join(", ", Routes.Values.Where(r => r.Carries).Select(r => $"{r.Prefix} via {r.Interface} metric {r.Metric}").Order(StringComparer.Ordinal))}], " +
        $"{Routes.Count(r => r.Value.Installed && !r.Value.Carries)} unreachable, {Xroutes.Count} originated [{string.Join(", ", Xroutes.Values.Select(x => x.Prefix.ToString()).Order(StringComparer.Ordinal))}]";

    private static ImmutableDictionary<string, T> Upsert<T>(ImmutableDictionary<string, T> map, T entry, bool remove)
        where T : BabelEntry =>
        remove ? map.Remove(entry.Id) : map.SetItem(entry.Id, entry);
}
