using System.Globalization;
using Re6st.Agent.Membership;
using Re6st.Core.Arrows;

namespace Re6st.Agent.Lifecycle;

/// <summary>An agent's restart without the host leaving the mesh (<see cref="HandOver"/>): leaving, arriving, and standing in for peers.</summary>
public sealed partial class HostAgent
{
    private readonly List<string> _standingIn = [];

    // When each peer was last seen handing over: its next run's babeld is new to this host's.
    private readonly Dictionary<string, DateTimeOffset> _handingOverSeen = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, StandInMemory> _standInMemory = new Dictionary<string, StandInMemory>();
    private StandInRoutes? _standIns;
    private LeftRoutes? _leftRoutes;

    // While set, this host asks its peers to stand in: from the moment the leaving run publishes it
    // until the arriving run's babeld has its neighbours back.
    private DateTimeOffset? _handOverUntil;
    private DateTimeOffset? _neighboursBackSince;
    private int _keptRoutes;
    private bool _handedOver;

    private string HandOverFile => Path.Combine(_options.StateDirectory, "hand-over");

    // When the leaving run killed babeld: the next run starts its own only once the peers forgot it.
    private string BabeldKilledFile => Path.Combine(_options.StateDirectory, "babeld-killed");

    /// <summary>
    /// Hands the host over to the agent's next run instead of tearing it down: removes the arrows
    /// whose tunnels die with this process (OpenVPN, wireguard-go), asks the peers to stand in,
    /// waits up to <paramref name="wait"/> for them, then kills babeld without a retraction. The
    /// disposal that follows leaves tunnels, routes, announcements and the drain table in place.
    /// </summary>
    public async Task HandOverAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        _handedOver = true;
        MarkReady(false);
        if (_babeld is null || _standIns is null || _tunnels is null)
        {
            // Stopped while starting: what a previous run handed over stays as it is, for the next one.
            _log($"{Node}: stopped before it ran: what is in place stays for the agent's next run");
            return;
        }

        var leaving = Arrows.Where(a => !_tunnels!.OutlivesAgent(a.Technology)).ToList();
        foreach (var arrow in leaving)
        {
            await RemoveAsync(arrow, RemovalReason.AgentRestart, cancellationToken).ConfigureAwait(false);
        }

        if (leaving.Count > 0)
        {
            // babeld, still running, moves the routes those arrows carried onto the others.
            await Task.Delay(2 * (_view?.HelloInterval ?? TimeSpan.FromSeconds(1)), _time, cancellationToken).ConfigureAwait(false);
        }

        var now = _time.GetUtcNow();
        _handOverUntil = now + HandOver.MaxLength;
        await WriteTimeAsync(HandOverFile, _handOverUntil.Value, cancellationToken).ConfigureAwait(false);
        await _standIns!.RetireAllAsync(cancellationToken).ConfigureAwait(false);
        _standingIn.Clear();
        await PublishAsync(cancellationToken).ConfigureAwait(false);
        _log($"{Node}: handing over to the agent's next run ({Arrows.Count} arrows kept, {leaving.Count} removed); asking peers to stand in until {_handOverUntil:HH:mm:ss}");

        var peers = Arrows.Select(a => a.Peer).ToHashSet(StringComparer.Ordinal);
        var deadline = now + wait;
        var waiting = peers;
        while (_time.GetUtcNow() < deadline)
        {
            var view = await _source.ReadAsync(cancellationToken).ConfigureAwait(false);
            waiting = [.. peers.Where(p => view?.Peers.FirstOrDefault(v => v.Node.Name == p)?.Status?.StandingIn.Contains(Node) != true)];
            if (waiting.Count == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(false);
        }

        _log(waiting.Count == 0
            ? $"{Node}: every peer with an arrow here stands in; babeld goes without a retraction"
            : $"{Node}: {waiting.Count} peer(s) did not stand in within {wait.TotalSeconds:0} s ({string.Join(", ", waiting.Order(StringComparer.Ordinal))}); babeld goes anyway");
        await _babeld!.AbandonAsync().ConfigureAwait(false);
        await WriteTimeAsync(BabeldKilledFile, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>At start: what a hand-over or a crash left (babeld's routes, the hand-over's deadline).</summary>
    private async Task TakeOverAsync(CancellationToken cancellationToken)
    {
        _keptRoutes = await _leftRoutes!.KeepAsync(cancellationToken).ConfigureAwait(false);
        if (await ReadTimeAsync(HandOverFile, cancellationToken).ConfigureAwait(false) is { } until && until > _time.GetUtcNow())
        {
            _handOverUntil = until;
        }

        if (_keptRoutes > 0 || _handOverUntil is not null)
        {
            _log($"{Node}: taking over from a previous run: {_keptRoutes} route(s) its babeld left kept until the new one has its neighbours{(_handOverUntil is { } u ? $"; peers stand in until then (at most until {u:HH:mm:ss})" : "")}");
        }

        // Handed over: the new babeld waits until the peers' babelds forgot the killed one (HandOver.PeersForget).
        var killed = _handOverUntil is null ? null : await ReadTimeAsync(BabeldKilledFile, cancellationToken).ConfigureAwait(false);
        File.Delete(BabeldKilledFile);
        var hello = _view!.HelloInterval;
        var wait = HandOver.WaitBeforeBabeld(killed, _time.GetUtcNow(), hello);
        if (wait > TimeSpan.Zero)
        {
            _log($"{Node}: babeld starts in {wait.TotalSeconds:F1} s, {HandOver.PeersForget(hello).TotalSeconds:F0} s after the previous one was killed, once the peers' babelds forgot it (peers stand in meanwhile)");
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A tick's part of the hand-over: stand in for the peers that hand over, and, once this run's
    /// babeld hears a neighbour on every arrow (for two hellos), drop what the previous run left.
    /// </summary>
    private async Task HandOverPhaseAsync(AgentView view, DateTimeOffset now, CancellationToken cancellationToken)
    {
        (var wanted, _standInMemory) = HandOver.StandIns(Node, view.Peers, Arrows, Babel, _standInMemory, now);
        var installed = Babel.Routes.Values.Where(r => r.Carries).Select(r => r.Prefix.ToString()).ToHashSet(StringComparer.Ordinal);
        var (added, removed) = await _standIns!.ApplyAsync(wanted, installed, cancellationToken).ConfigureAwait(false);
        var peers = wanted.Select(s => s.Peer).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (added + removed > 0)
        {
            Count("stand-in-changed");
            _log($"{Node}: standing in for {(peers.Count == 0 ? "no peer" : string.Join(", ", peers))} ({added} prefix(es) added, {removed} retired)");
        }

        _standingIn.Clear();
        _standingIn.AddRange(peers);
        foreach (var peer in view.Peers.Where(p => HandOver.IsHandingOver(p.Status, now)))
        {
            _handingOverSeen[peer.Node.Name] = now;
        }

        foreach (var gone in _handingOverSeen.Where(e => now - e.Value > _options.AuthenticationGrace).Select(e => e.Key).ToList())
        {
            _handingOverSeen.Remove(gone);
        }

        if (_handedOver || (_handOverUntil is null && _keptRoutes == 0))
        {
            return;
        }

        // A kept route goes as soon as babeld has installed its own to the same place.
        var babel = Babel;
        if (_keptRoutes > 0 && babel.Connected)
        {
            _keptRoutes -= await _leftRoutes!.RemoveCoveredAsync(installed, cancellationToken).ConfigureAwait(false);
        }

        // Past the bound, what babeld never relearnt (a destination gone meanwhile) goes too.
        var bounded = now - _babeldStartedAt >= HandOver.MaxLength / 4;
        if (_keptRoutes > 0 && bounded)
        {
            var dropped = await _leftRoutes!.RemoveAsync(cancellationToken).ConfigureAwait(false);
            _log($"{Node}: {dropped} route(s) the previous babeld left and this one did not relearn within {(HandOver.MaxLength / 4).TotalSeconds:F0} s removed");
            _keptRoutes = 0;
        }

        if (_handOverUntil is null)
        {
            return;
        }

        // The host is back once every arrow has its neighbour (for two hellos): peers stop standing
        // in and the pod is ready. A kept route stays until babeld has its own to the same place:
        // dropping it earlier cut the replies to a peer for seconds.
        var back = babel.Connected && Arrows.All(a => a.State != ArrowState.Active || babel.NeighboursOn(a.Interface).Any(n => n.Reach != 0));
        _neighboursBackSince = back ? _neighboursBackSince ?? now : null;
        var settled = _neighboursBackSince is { } since && now - since >= 2 * view.HelloInterval;
        if (!settled && !bounded)
        {
            return;
        }

        File.Delete(HandOverFile);
        _log($"{Node}: taken over{(settled ? "" : $" after {(HandOver.MaxLength / 4).TotalSeconds:F0} s (not every arrow has its neighbour back)")}: peers no longer stand in; {_keptRoutes} route(s) the previous babeld left kept until this one has its own");
        _handOverUntil = null;
        Count("taken-over");
    }

    /// <summary>A moment kept in the state folder for the agent's next run.</summary>
    private static Task WriteTimeAsync(string path, DateTimeOffset time, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(path, time.ToString("O", CultureInfo.InvariantCulture), cancellationToken);

    /// <summary>A moment a previous run kept in the state folder, or null (no file, or not a time).</summary>
    private static async Task<DateTimeOffset?> ReadTimeAsync(string path, CancellationToken cancellationToken) =>
        File.Exists(path) && DateTimeOffset.TryParse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time)
            ? time
            : null;

    private string ReadyFile => Path.Combine(_options.StateDirectory, "ready");

    /// <summary>
    /// Ready: this run has its host, with nothing of a previous run's left to take over. The file is
    /// the pod's readiness (the chart's probe), so a rolling upgrade moves to the next host only
    /// once this one is back, and no two neighbours hand over at once.
    /// </summary>
    private void MarkReady(bool ready)
    {
        if (ready && !File.Exists(ReadyFile))
        {
            File.WriteAllText(ReadyFile, "");
        }
        else if (!ready && File.Exists(ReadyFile))
        {
            File.Delete(ReadyFile);
        }
    }

    /// <summary>Whether <paramref name="peer"/> hands over now: this host holds its arrows to it (see <see cref="HandOver"/>).</summary>
    private static bool HandsOver(AgentView view, string peer, DateTimeOffset now) =>
        HandOver.IsHandingOver(view.Peers.FirstOrDefault(p => p.Node.Name == peer)?.Status, now);

    /// <summary>
    /// Whether <paramref name="peer"/> hands over, or did within the authentication grace: its
    /// next run's babeld is new here, and this host's babeld hears it only once the two have been
    /// through Babel's authentication challenge again, a few seconds after the peer's own babeld
    /// has its neighbours back (and the peer says it is back). Judged unauthenticated meanwhile,
    /// a returning host lost every arrow at once and was cut off for 6 s in a real-node rollout.
    /// </summary>
    private bool HandsOverOrJustDid(AgentView view, string peer, DateTimeOffset now) =>
        HandsOver(view, peer, now) || (_handingOverSeen.TryGetValue(peer, out var seen) && now - seen <= _options.AuthenticationGrace);

    /// <summary>
    /// Whether this host stands in for <paramref name="peer"/>, or the peer (as its last status
    /// says) for this host: a stand-in routes the host's prefixes over an arrow between the two, so
    /// the arrows between them are held, like those to a peer that hands over (see <see cref="HandOver"/>).
    /// </summary>
    private bool StandInBetween(AgentView view, string peer) =>
        _standingIn.Contains(peer) || view.Peers.FirstOrDefault(p => p.Node.Name == peer)?.Status?.StandingIn.Contains(Node) == true;
}
