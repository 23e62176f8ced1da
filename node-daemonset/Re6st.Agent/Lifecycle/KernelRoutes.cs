using System.Globalization;
using System.Text.Json;
using Re6st.Agent.Host;

namespace Re6st.Agent.Lifecycle;

/// <summary>One kernel route as `ip -j route show` prints it: what the agent needs to copy or delete it.</summary>
/// <param name="Type">null for a unicast route; otherwise its type ("unreachable", "blackhole", ...), which a copy keeps.</param>
public sealed record KernelRoute(string Destination, string? Via, string? Device, uint Metric, string? Type = null)
{
    /// <summary>The routes of <paramref name="protocol"/> (a number) in the main table, IPv6 then IPv4.</summary>
    public static async Task<IReadOnlyList<KernelRoute>> ReadAsync(HostShell shell, int protocol, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(shell);
        var routes = new List<KernelRoute>();
        foreach (var family in new[] { "-6", "-4" })
        {
            var json = await shell.RunCheckedAsync("ip", ["-j", family, "route", "show", "proto", protocol.ToString(CultureInfo.InvariantCulture)], cancellationToken).ConfigureAwait(false);
            routes.AddRange(Parse(json, family == "-6" ? 128 : 32));
        }

        return routes;
    }

    /// <summary>Reads `ip -j route show`; a host route's destination gets its length (/128, /32) so it compares with prefixes.</summary>
    public static IEnumerable<KernelRoute> Parse(string json, int hostLength)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            yield break;
        }

        using var document = JsonDocument.Parse(json);
        foreach (var route in document.RootElement.EnumerateArray())
        {
            var destination = route.GetProperty("dst").GetString() ?? "";
            if (destination == "default")
            {
                continue;
            }

            if (!destination.Contains('/', StringComparison.Ordinal))
            {
                destination += "/" + hostLength.ToString(CultureInfo.InvariantCulture);
            }

            // An IPv4 route through an IPv6 next hop prints it as "via": {"family": "inet6", "host": ...}.
            var via = route.TryGetProperty("gateway", out var gateway) ? gateway.GetString()
                : route.TryGetProperty("via", out var v) && v.TryGetProperty("host", out var host) ? "inet6 " + host.GetString()
                : null;
            var device = route.TryGetProperty("dev", out var dev) ? dev.GetString() : null;
            // A route's priority is 32 bits unsigned (an unreachable route may have 4294967295).
            var metric = route.TryGetProperty("metric", out var m) && m.TryGetUInt32(out var value) ? value : 0;
            var type = route.TryGetProperty("type", out var t) ? t.GetString() : null;
            yield return new KernelRoute(destination, via, device, metric, type is null or "unicast" ? null : type);
        }
    }

    /// <summary>The arguments of `ip` that name this route (family, type, destination, next hop, device, metric).</summary>
    public IReadOnlyList<string> Arguments(string verb, int protocol, uint metric)
    {
        List<string> args = [Destination.Contains(':', StringComparison.Ordinal) ? "-6" : "-4", "route", verb, .. Type is { } type ? new[] { type } : [], Destination];
        if (Via is { } via)
        {
            args.Add("via");
            args.AddRange(via.Split(' '));
        }

        if (Device is { } device)
        {
            args.AddRange(["dev", device]);
        }

        args.AddRange(["proto", protocol.ToString(CultureInfo.InvariantCulture), "metric", metric.ToString(CultureInfo.InvariantCulture)]);
        return args;
    }
}

/// <summary>
/// The kernel side of <see cref="HandOver"/>'s stand-ins: a route of <see cref="Protocol"/> for each
/// prefix announced for a peer, through the arrow to it. babeld redistributes that protocol (see
/// BabelConfigWriter) with a metric above any real route's, so the peer's own announcement wins
/// whenever it is heard. Each call diffs what is wanted against what the kernel holds.
/// </summary>
/// <remarks>
/// CAVEAT: babeld 1.12.1, when a redistributed route goes, reinstalls the best learned route of
/// another prefix than the one that went (check_xroutes reads xroutes[i] for xroutes[j]; fixed
/// upstream by "Reinstall the right route in check_xroutes"), and sends no retraction. Deleting a
/// stand-in would leave this host without a route to the peer until the peer's next periodic
/// update (4 hellos), and its neighbours with its stale announcement meanwhile: a black hole. So a
/// stand-in retires in two steps: its route changes to <see cref="RetiredProtocol"/>, which babeld
/// does not redistribute, and keeps carrying the peer's traffic; it goes once babeld has installed
/// a route of its own to the prefix (or after <see cref="RetiredFor"/>).
/// </remarks>
public sealed class StandInRoutes(HostShell shell, TimeProvider time)
{
    /// <summary>The kernel protocol number of stand-in routes (babeld redistributes it).</summary>
    public const int Protocol = 251;

    /// <summary>The kernel protocol number of a retiring stand-in (not redistributed).</summary>
    public const int RetiredProtocol = 249;

    /// <summary>
    /// Below babeld's own routes in the kernel (it installs at 0, which IPv6 turns into 1024): a
    /// learned route to the prefix, while there is one, carries the traffic, and neither replaces the other.
    /// </summary>
    public const uint KernelMetric = 2000;

    /// <summary>The longest a retired stand-in stays (babeld then has heard a periodic update of every neighbour).</summary>
    public static readonly TimeSpan RetiredFor = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, DateTimeOffset> _retiredSince = new(StringComparer.Ordinal);

    // At start the kernel may hold stand-ins of a previous run: looked at once whatever is wanted.
    private bool _mayHaveRoutes = true;
    private bool _mayHaveRetired = true;

    /// <param name="installed">Prefixes babeld has installed a route of its own to (a retired stand-in to one of them goes).</param>
    /// <returns>The stand-ins added and retired.</returns>
    public async Task<(int Added, int Retired)> ApplyAsync(IReadOnlyCollection<StandIn> wanted, IReadOnlySet<string> installed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        ArgumentNullException.ThrowIfNull(installed);
        if (wanted.Count == 0 && !_mayHaveRoutes && !_mayHaveRetired)
        {
            return (0, 0);
        }

        var now = time.GetUtcNow();
        var routes = await KernelRoute.ReadAsync(shell, Protocol, cancellationToken).ConfigureAwait(false);
        var want = wanted.Select(s => (Destination: s.Prefix.ToString(), Device: s.Interface)).ToHashSet();
        var added = 0;
        foreach (var (destination, device) in want.Where(w => !routes.Any(r => r.Destination == w.Destination && r.Device == w.Device)))
        {
            await shell.RunCheckedAsync("ip", new KernelRoute(destination, null, device, KernelMetric).Arguments("replace", Protocol, KernelMetric), cancellationToken).ConfigureAwait(false);
            _retiredSince.Remove(destination);
            added++;
        }

        var retired = 0;
        foreach (var route in routes.Where(r => !want.Contains((r.Destination, r.Device ?? ""))))
        {
            // Same destination and metric: the route changes protocol in place, no gap.
            await shell.RunAsync("ip", route.Arguments("replace", RetiredProtocol, route.Metric), cancellationToken: cancellationToken).ConfigureAwait(false);
            _retiredSince.TryAdd(route.Destination, now);
            retired++;
        }

        if (_mayHaveRetired || _retiredSince.Count > 0)
        {
            foreach (var route in await KernelRoute.ReadAsync(shell, RetiredProtocol, cancellationToken).ConfigureAwait(false))
            {
                // One a previous run retired as it handed the host over counts from now.
                _retiredSince.TryAdd(route.Destination, now);
                if (installed.Contains(route.Destination) || now - _retiredSince[route.Destination] >= RetiredFor)
                {
                    await shell.RunAsync("ip", route.Arguments("del", RetiredProtocol, route.Metric), cancellationToken: cancellationToken).ConfigureAwait(false);
                    _retiredSince.Remove(route.Destination);
                }
            }

            _mayHaveRetired = false;
        }

        _mayHaveRoutes = want.Count > 0;
        return (added, retired);
    }

    /// <summary>
    /// Retires every stand-in as this host hands itself over: babeld is about to go, and the kernel
    /// keeps forwarding to those peers through them until the next run's babeld has routes of its own.
    /// </summary>
    public Task RetireAllAsync(CancellationToken cancellationToken) =>
        ApplyAsync([], new HashSet<string>(StringComparer.Ordinal), cancellationToken);

    /// <summary>Removes every stand-in, retired or not (a clean stop).</summary>
    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        foreach (var protocol in new[] { Protocol, RetiredProtocol })
        {
            foreach (var route in await KernelRoute.ReadAsync(shell, protocol, cancellationToken).ConfigureAwait(false))
            {
                await shell.RunAsync("ip", route.Arguments("del", protocol, route.Metric), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        _retiredSince.Clear();
        _mayHaveRoutes = _mayHaveRetired = false;
    }
}

/// <summary>
/// The routes a babeld killed without retraction left (a hand-over, or an agent that crashed): they
/// keep the host forwarding while the next babeld learns its own. Before that babeld starts they
/// are moved to <see cref="Protocol"/> at a metric below its routes (its own then win as they come,
/// and none of its installs collides with a left one), and they go once it has its neighbours back.
/// </summary>
public sealed class LeftRoutes(HostShell shell)
{
    /// <summary>babeld's kernel protocol number (RTPROT_BABEL).</summary>
    public const int BabelProtocol = 42;

    /// <summary>The kernel protocol number of the routes kept from the previous babeld.</summary>
    public const int Protocol = 252;

    /// <summary>Below babeld's routes (0, 1024 for IPv6) and stand-ins (<see cref="StandInRoutes.KernelMetric"/>).</summary>
    public const uint KernelMetric = 3000;

    /// <summary>
    /// Keeps the routes that carry packets; drops the unreachable ones babeld left for prefixes it
    /// had lost (see BabelRoute.Carries): they carry nothing, and the new babeld would never
    /// relearn them to replace them.
    /// </summary>
    /// <returns>How many routes were kept.</returns>
    public async Task<int> KeepAsync(CancellationToken cancellationToken)
    {
        var left = await KernelRoute.ReadAsync(shell, BabelProtocol, cancellationToken).ConfigureAwait(false);
        foreach (var route in left)
        {
            if (route.Type is null)
            {
                await shell.RunAsync("ip", route.Arguments("replace", Protocol, KernelMetric), cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            await shell.RunAsync("ip", route.Arguments("del", BabelProtocol, route.Metric), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return left.Count(r => r.Type is null);
    }

    /// <summary>Removes the kept routes to the destinations in <paramref name="installed"/> (babeld's own route is in place); returns how many went.</summary>
    public async Task<int> RemoveCoveredAsync(IReadOnlySet<string> installed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(installed);
        var covered = (await KernelRoute.ReadAsync(shell, Protocol, cancellationToken).ConfigureAwait(false)).Where(r => installed.Contains(r.Destination)).ToList();
        foreach (var route in covered)
        {
            await shell.RunAsync("ip", route.Arguments("del", Protocol, route.Metric), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return covered.Count;
    }

    /// <summary>Removes every kept route (the new babeld has its own by now).</summary>
    public async Task<int> RemoveAsync(CancellationToken cancellationToken)
    {
        var kept = await KernelRoute.ReadAsync(shell, Protocol, cancellationToken).ConfigureAwait(false);
        foreach (var route in kept)
        {
            await shell.RunAsync("ip", route.Arguments("del", Protocol, route.Metric), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return kept.Count;
    }
}
