using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Re6st.Agent.Babel;
using Re6st.Agent.Host;
using Re6st.Agent.Membership;
using Re6st.Agent.Metrics;
using Re6st.Agent.Probing;
using Re6st.Agent.Tracing;
using Re6st.Agent.Tunnels;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Agent.Lifecycle;

/// <summary>
/// One host's agent: runs babeld over this host's arrows and keeps the arrows alive by the core's
/// policy. Every tick it reads its peers, accepts the arrows they open towards it (after checking
/// they belong to a sub-mesh it shares), tops its own arrows up with <see cref="ArrowSelection"/>,
/// and finishes drains; every refresh period it runs <see cref="ArrowDestruction"/> on the arrows
/// it initiated. The policy code is the core's: the agent never decides on its own.
/// </summary>
public sealed partial class HostAgent : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly IMembershipSource _source;
    private readonly HostShell _shell;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly RepeatedLineFilter _logFilter;
    private readonly IRandomSource _random;
    private readonly Dictionary<string, ArrowRecord> _arrows = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _decisions = new(StringComparer.Ordinal);
    private readonly AgentTracing _trace;

    /// <summary>Time the far end gets between a goodbye and the tunnel's removal: to read it and remove its own end.</summary>
    private static readonly TimeSpan GoodbyeGrace = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long an accepted arrow whose technology the rules came to deny is kept before its
    /// initiator drains it: both ends learn of a label change from the API server within a few
    /// ticks of each other.
    /// </summary>
    private static readonly TimeSpan TechnologyGrace = TimeSpan.FromSeconds(15);

    // Released when an arrow cannot wait for the next tick to go (dead, or its far end said goodbye).
    private readonly SemaphoreSlim _wake = new(0);

    // Arrow ids peers publish towards this host that it will not take: refused (trust no node) or
    // found dead here; forgotten once the initiator stops publishing them.
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

    /// <summary>Accepted arrows whose technology the rules came to deny, and since when (their initiator drains them).</summary>
    private readonly Dictionary<string, DateTimeOffset> _deniedSince = new(StringComparer.Ordinal);

    // Peers left out of the draw for a while because their arrows failed (the core's exception).
    private readonly PeerBackoff _backoff = new();
    private ArrowProber? _prober;
    private Announcements? _announcements;
    private PodNetwork? _pods;
    private ArrowJournal? _journal;
    private HostTunnels? _tunnels;
    private InterfaceTombstones? _tombstones;
    private BabelDrain? _drain;
    private ArrowTraffic? _traffic;
    private BabeldProcess? _babeld;
    private BabelControlClient? _control;
    private InterfacePool? _pool;
    private AgentView? _view;
    private string[] _memberships = [];
    private readonly PeriodClock _period;
    private ChurnCounters _churn = new(DateTimeOffset.UnixEpoch);
    private string _configText = "";
    private string? _signingKeyId;
    private DateTimeOffset _babeldStartedAt;

    // What the babelds replaced by a new plan or key counted, so the metrics keep counting up.
    private BabeldCounts _earlierBabelds;
    private long _changes;

    public HostAgent(AgentOptions options, IMembershipSource source, HostShell shell, TimeProvider time, IRandomSource random, Action<string>? log = null)
    {
        _options = options;
        _source = source;
        _shell = shell;
        _time = time;
        _random = random;
        _logFilter = new RepeatedLineFilter(log ?? (_ => { }), time);
        _log = _logFilter.Write;
        Metrics = new AgentMetrics(options.Node, options.Mesh);
        _trace = new AgentTracing(options.Node, options.Mesh);
        _period = new PeriodClock(random);
    }

    public AgentMetrics Metrics { get; }

    public string Node => _options.Node;

    public BabelState Babel => _control?.State ?? BabelState.Empty;

    /// <summary>Times babeld exited and was restarted by its supervisor (restarts for a new configuration excluded).</summary>
    public int BabeldRestarts => BabeldTotals.Restarts;

    /// <summary>Runaway babelds stopped and started again (see <see cref="BabeldProcess.Runaway"/>).</summary>
    public int BabeldRunaways => BabeldTotals.Runaways;

    /// <summary>Lines babeld wrote so far, every run together.</summary>
    public long BabeldLines => BabeldTotals.Lines;

    private BabeldCounts BabeldTotals => _earlierBabelds + (_babeld?.Counts ?? default);

    /// <summary>Bytes this agent wrote to its log (babeld's lines included), after repeats were left out.</summary>
    public long LoggedBytes => _logFilter.WrittenBytes;

    /// <summary>Names held by tombstones (<see cref="InterfaceTombstones"/>).</summary>
    public IReadOnlyCollection<string> Tombstones => _tombstones?.Names ?? [];

    public IReadOnlyCollection<ArrowRecord> Arrows
    {
        get
        {
            lock (_arrows)
            {
                return [.. _arrows.Values];
            }
        }
    }

    /// <summary>What the probes inside an arrow's tunnel show (null for an interface that is not an arrow).</summary>
    public ProbeReading? Probe(string interfaceName) => _prober?.Read(interfaceName);

    /// <summary>Arrows created and destroyed so far, by reason ("created/random", "destroyed/drained", ...).</summary>
    public IReadOnlyDictionary<string, long> Decisions => _decisions;

    /// <summary>"node: reason=count, ..." of <see cref="Decisions"/>, sorted by reason.</summary>
    public string DescribeDecisions() => $"{Node}: {string.Join(", ", Decisions.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}={d.Value}"))}";

    /// <summary>Waits for this host's plan, then starts WireGuard, the drain table and babeld.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_options.StateDirectory);
        MarkReady(false);
        _tunnels = await HostTunnels.CreateAsync(_shell, Node, _options.StateDirectory, _options.Technologies, _log, cancellationToken).ConfigureAwait(false);
        _tombstones = new InterfaceTombstones(_shell, () => _babeld?.Freeze() ?? NotFrozen.Instance, _time, _options.StateDirectory, _log);
        _drain = new BabelDrain(_shell);
        await _drain.InitializeAsync(cancellationToken).ConfigureAwait(false);
        _traffic = await StartTrafficAsync(cancellationToken).ConfigureAwait(false);
        _prober = ArrowProber.Start(_shell, _options.Probe, OnDead, OnClosed, _log);
        while ((_view = await _source.ReadAsync(cancellationToken).ConfigureAwait(false)) is null)
        {
            await Task.Delay(_options.Tick, _time, cancellationToken).ConfigureAwait(false);
        }

        _memberships = [.. _view.Plan.Memberships.Select(m => m.SubMesh)];
        _announcements = new Announcements(_shell);
        await _announcements.ApplyAsync(_view.Plan, cancellationToken).ConfigureAwait(false);
        _pods = new PodNetwork(_shell, _options.CniConfDirectory, _options.InterfacePrefix, _log);
        await _pods.ApplyAsync(_view.Plan.Pods, cancellationToken).ConfigureAwait(false);
        _pool = new InterfacePool(_options.InterfacePrefix, _memberships.Length, _options.PoolSize, _options.PortBase);
        WriteConfig(ConfigText(_view), _view);
        _journal = new ArrowJournal(Path.Combine(_options.StateDirectory, "arrows.json"));
        _standIns = new StandInRoutes(_shell, _time);
        _leftRoutes = new LeftRoutes(_shell);
        await AdoptAsync(ConfigPath, cancellationToken).ConfigureAwait(false);
        await TakeOverAsync(cancellationToken).ConfigureAwait(false);
        StartBabeld("agent-start");
        _control = new BabelControlClient(SocketPath, _time, _log);
        _control.Start();
        _period.Start(_time.GetUtcNow(), _view.Policy.RefreshPeriod);
        _churn = new ChurnCounters(_time.GetUtcNow());
        await PublishAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = _time.GetTimestamp();
            try
            {
                await StepAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // One failed step (a peer's tunnel that would not come up) must not stop the host.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _log($"{Node}: step failed: {e.Message}");
            }

            Metrics.StepTook(_time.GetElapsedTime(started));
            try
            {
                // The next tick, or at once when woken (an arrow condemned): one wake-up runs one step.
                await _wake.WaitAsync(_options.Tick, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One pass: read peers, accept and drop accepted arrows, finish drains, destroy at period ends,
    /// top up, publish. Each phase fails on its own: a tunnel that will not come up must not keep
    /// this host from finishing drains or from publishing what it carries.
    /// </summary>
    public async Task StepAsync(CancellationToken cancellationToken)
    {
        using var tick = _trace.Tick();
        var changes = Interlocked.Read(ref _changes);
        _view = await _source.ReadAsync(cancellationToken).ConfigureAwait(false) ?? _view;
        var view = _view!;
        Metrics.ObservePlan(view.Policy.RefreshPeriod, view.Plan.Memberships.ToDictionary(m => m.SubMesh, m => view.MembersOf(m.SubMesh).Count() + 1, StringComparer.Ordinal));
        var now = _time.GetUtcNow();

        // The period's end follows the policy as it is now: a shorter period applied to a running
        // mesh takes effect within one new period, not after the old one ran out.
        var due = _period.End;
        var periodEnded = _period.Tick(now, view.Policy.RefreshPeriod);

        tick?.SetTag("re6st.period_ended", periodEnded);
        if (periodEnded)
        {
            _churn.PeriodEnded(now);
            Metrics.PeriodEndedLate(now - due!.Value);
        }

        try
        {
            await PhaseAsync("replan", () => ReplanAsync(view, cancellationToken)).ConfigureAwait(false);
            await PhaseAsync("dead", () => RemoveDeadAsync(view, now, cancellationToken)).ConfigureAwait(false);
            await PhaseAsync("hand-over", () => HandOverPhaseAsync(view, now, cancellationToken)).ConfigureAwait(false);
            await PhaseAsync("tombstones", () => SweepTombstonesAsync(view, cancellationToken)).ConfigureAwait(false);
            await PhaseAsync("accept", () => AcceptAsync(view, now, cancellationToken)).ConfigureAwait(false);
            await PhaseAsync("destroy", () => DestroyAsync(view, now, periodEnded, cancellationToken)).ConfigureAwait(false);
            await PhaseAsync("select", () => SelectAsync(view, now, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            var publishing = _time.GetTimestamp();
            await PublishAsync(cancellationToken).ConfigureAwait(false);
            Metrics.PhaseTook("publish", _time.GetElapsedTime(publishing));
            if (!periodEnded && Interlocked.Read(ref _changes) == changes)
            {
                AgentTracing.Unrecord(tick);
            }
        }
    }

    private async Task PhaseAsync(string name, Func<Task> phase)
    {
        var started = _time.GetTimestamp();
        try
        {
            await phase().ConfigureAwait(false);
        }
        catch (Exception e) when (e is HostCommandException or TimeoutException or IOException or InvalidOperationException)
        {
            Count("step-failed/" + name);
            Metrics.StepFailed(name);
            Activity.Current?.AddException(e).SetStatus(ActivityStatusCode.Error, $"{name} failed");
            _log($"{Node}: {name} failed: {e.Message}");
        }
        finally
        {
            Metrics.PhaseTook(name, _time.GetElapsedTime(started));
        }
    }

    /// <summary>An arrow to <paramref name="peer"/> failed: the peer leaves this host's draw for a while.</summary>
    private void BackOff(string peer, string why)
    {
        var pause = _backoff.Fail(peer, _time.GetUtcNow());
        Count("backoff");
        _log($"{Node}: {peer} left out of the draw for {pause.TotalSeconds:0} s ({why})");
    }

    /// <summary>Peers left out of this host's draw now (<see cref="PeerBackoff"/>).</summary>
    public IReadOnlyList<string> BackedOff => _backoff.BackedOff(_time.GetUtcNow());

    private async Task<bool> CreateTunnelAsync(TunnelSpec spec, Slot slot, CancellationToken cancellationToken)
    {
        try
        {
            await _tunnels!.CreateAsync(spec, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (HostCommandException e)
        {
            Count("create-failed");
            Activity.Current?.SetStatus(ActivityStatusCode.Error, e.Message);
            _pool!.Return(slot);
            _log($"{Node}: arrow on {spec.Interface} failed: {e.Message}");
            return false;
        }
    }

    /// <param name="tombstoned">Its tombstone already took its interface's place (several arrows removed at once).</param>
    private async Task RemoveAsync(ArrowRecord arrow, RemovalReason reason, CancellationToken cancellationToken, bool tombstoned = false)
    {
        var name = reason.Name();
        using var span = _trace.Arrow("destroy", arrow)?.SetTag("re6st.destroy.reason", name);
        _log($"{Node}: removing {arrow.Interface} to {arrow.Peer} ({name})");

        // Who is told first: RemovalReasons.SaysGoodbye.
        if (reason.SaysGoodbye())
        {
            await _prober!.SayGoodbyeAsync(arrow.Interface, cancellationToken).ConfigureAwait(false);
            await Task.Delay(GoodbyeGrace, _time, cancellationToken).ConfigureAwait(false);
        }

        _prober!.Forget(arrow.Interface);

        // The name stays with a tombstone until babeld has forgotten the arrow's neighbour, and
        // only then returns to the pool (SweepTombstonesAsync).
        if (!tombstoned)
        {
            await _tombstones!.ReplaceAsync(arrow.Interface, LinkLocal(arrow.Slot), cancellationToken).ConfigureAwait(false);
        }

        await _tunnels!.DeleteAsync(arrow.Interface, arrow.Technology, cancellationToken, deviceReplaced: true).ConfigureAwait(false);
        await _drain!.StopAsync(arrow.Interface, cancellationToken).ConfigureAwait(false);
        await (_traffic?.ForgetAsync(arrow.Interface, cancellationToken) ?? Task.CompletedTask).ConfigureAwait(false);
        lock (_arrows)
        {
            _arrows.Remove(arrow.Interface);
        }

        Count("destroyed/" + name);
        Metrics.Destroyed(reason, arrow.Technology.ToName());
        _churn.Removed(reason.Name());
        if (arrow.DrainStartedAt is { } started && arrow.Initiated && arrow.DestroyReason is null)
        {
            var forced = reason == RemovalReason.ForcedAfterMaxDrain;
            Metrics.DrainEnded(_time.GetUtcNow() - started, forced);
            _trace.DrainEnded(arrow, started, forced);
        }
    }

    /// <summary>Tombstones babeld no longer needs go, and their names return to the pool.</summary>
    private async Task SweepTombstonesAsync(AgentView view, CancellationToken cancellationToken) =>
        ReturnToPool(await _tombstones!.SweepAsync(Babel, view.HelloInterval, cancellationToken).ConfigureAwait(false));

    private void ReturnToPool(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            _pool!.Return(name);
        }
    }

    /// <summary>
    /// Routes the far end of an arrow this host initiated sends over it, as that peer publishes
    /// them. An arrow is in use while either end routes over it: one that carries only the far
    /// end's traffic (replies, or routes the far end prefers through this host) is drained like
    /// any other, or its cut would black-hole that traffic until the far end's probes notice. A
    /// peer that does not list the arrow has no end of it, so no route of its own goes over it.
    /// </summary>
    private int FarEndRoutes(AgentView view, ArrowRecord arrow)
    {
        var status = view.Peers.FirstOrDefault(p => p.Node.Name == arrow.Peer)?.Status;
        return status?.Accepted.FirstOrDefault(a => a.Peer == Node && a.SubMesh == arrow.SubMesh)?.Routes ?? 0;
    }

    private Task PublishAsync(CancellationToken cancellationToken)
    {
        var all = Arrows;
        foreach (var arrow in all.Where(a => _prober?.Read(a.Interface) is { Up: true }))
        {
            if (_backoff.Succeed(arrow.Peer))
            {
                _log($"{Node}: {arrow.Peer} is reachable again (an arrow to it came up): back in the draw");
            }
        }

        var babel = Babel;
        Metrics.Observe(all, babel, BabeldRestarts, i => _prober?.Read(i));
        Metrics.ObserveBackoff(_backoff.BackedOff(_time.GetUtcNow()).Count);
        Metrics.ObserveBounds(BabeldRunaways, BabeldTotals.SuppressedLines, _logFilter.Suppressed, _tombstones?.Names.Count ?? 0, _source.RejectedInputs);
        _journal?.Write(all);
        var initiated = all.Where(a => a.Initiated).Select(a => new PublishedArrow(a.Id, a.Peer, a.SubMesh, a.Technology, a.Slot.Port, a.State == ArrowState.Draining) { Since = a.Created, Reason = a.Reason }).ToList();
        var accepted = all.Where(a => !a.Initiated).Select(a => new AcceptedArrow(a.Peer, a.SubMesh, babel.InstalledRoutesVia(a.Interface))).ToList();
        var status = new PeerStatus(Node, _options.Underlay, _tunnels!.WireGuardKey, initiated)
        {
            Accepted = accepted,
            OpenVpnFingerprint = _tunnels.OpenVpnFingerprint,
            Technologies = _tunnels.Available,
            Routes = babel.Connected ? babel.InstalledRouteCount : null,
            HandOverUntil = _handOverUntil,
            StandingIn = [.. _standingIn],
            SigningKey = _signingKeyId,
            Churn = _churn.Figures(),
        };
        Metrics.ObserveHandOver(_standingIn.Count, _handedOver || _handOverUntil is not null || _keptRoutes > 0);
        MarkReady(!_handedOver && _handOverUntil is null && babel.Connected);
        return _source.PublishAsync(status, cancellationToken);
    }

    /// <summary>This host as the policy sees it, with only the technologies it can run.</summary>
    private NodeInfo Self(AgentView view)
    {
        var self = view.Self ?? NodeInfo.Named(Node);
        return self with { Technologies = self.Technologies & _tunnels!.Available };
    }

    /// <summary>A peer as the policy sees it, with only the technologies it says it runs.</summary>
    private static NodeInfo Usable(PeerView peer) =>
        peer.Status?.Technologies is { } published ? peer.Node with { Technologies = peer.Node.Technologies & published } : peer.Node;

    /// <summary>Technologies an arrow between this host and <paramref name="peer"/> may use, by both ends' abilities and the policy's technology rules.</summary>
    private TunnelTechnology Technologies(AgentView view, PeerView peer)
    {
        var ends = new MemberSet([Self(view), Usable(peer)]).EndpointTechnologies(view.Policy.TechnologyRules);
        return ends[0] & ends[1];
    }

    private async Task TrackAsync(ArrowRecord record, CancellationToken cancellationToken)
    {
        lock (_arrows)
        {
            _arrows[record.Interface] = record;
        }

        await _prober!.WatchAsync(record.Interface, cancellationToken).ConfigureAwait(false);
    }


    /// <summary>Counts a decision or a failure: a tick that counted nothing changed nothing.</summary>
    private void Count(string what)
    {
        _decisions.AddOrUpdate(what, 1, (_, n) => n + 1);
        Interlocked.Increment(ref _changes);
    }

    /// <summary>
    /// A link-local address per arrow interface, distinct from the other end's: a hash of the host's
    /// name, then the sub-mesh and the slot (fe80::hhhh:hhhh:m:s).
    /// </summary>
    private IPAddress LinkLocal(Slot slot)
    {
        var h = SeedMixer.Hash(Node);
        return IPAddress.Parse($"fe80::{(h >> 48) & 0xffff:x}:{(h >> 32) & 0xffff:x}:{slot.Membership + 1:x}:{slot.Index + 1:x}");
    }

    /// <summary>
    /// Clean shutdown: babeld stops, every arrow interface, stand-in, kept route, announcement, the
    /// drain table and the pod network go. After <see cref="HandOverAsync"/>, only this process's own parts go
    /// (probes, babeld's control connection, tombstones, stand-ins); the host's tunnels, routes,
    /// announcements, drain table and pod network stay for the next run.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        // Each step on its own: one that fails must not leave the others' processes and interfaces behind.
        await CleanAsync("probes", () => _prober?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false);
        await CleanAsync("babeld control", () => _control?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false);
        await CleanAsync("babeld", () => _babeld?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false);
        await CleanAsync("tombstones", async () => await (_tombstones?.RemoveAllAsync(CancellationToken.None) ?? Task.FromResult<IReadOnlyList<string>>([])).ConfigureAwait(false)).ConfigureAwait(false);
        await CleanAsync("readiness", () =>
        {
            MarkReady(false);
            return ValueTask.CompletedTask;
        }).ConfigureAwait(false);
        await CleanAsync("tunnels", async () =>
        {
            if (_tunnels is not null)
            {
                if (!_handedOver)
                {
                    await _tunnels.RemoveAllAsync(CancellationToken.None).ConfigureAwait(false);
                }

                await _tunnels.DisposeAsync().ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
        if (!_handedOver)
        {
            await CleanAsync("stand-ins", async () => await (_standIns?.RemoveAllAsync(CancellationToken.None) ?? Task.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
            await CleanAsync("kept routes", async () => await (_leftRoutes?.RemoveAsync(CancellationToken.None) ?? Task.FromResult(0)).ConfigureAwait(false)).ConfigureAwait(false);
            await CleanAsync("drain table", async () => await (_drain?.RemoveAsync(CancellationToken.None) ?? Task.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
            await CleanAsync("traffic table", async () => await (_traffic?.RemoveAsync(CancellationToken.None) ?? Task.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
            await CleanAsync("announcements", async () => await (_announcements?.RemoveAsync(CancellationToken.None) ?? Task.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
            await CleanAsync("pod network", async () => await (_pods?.RemoveAsync(CancellationToken.None) ?? Task.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
            await CleanAsync("hand-over files", () =>
            {
                File.Delete(HandOverFile);
                File.Delete(BabeldKilledFile);
                _shell.Escape?.RemoveEmpty();
                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);
        }

        _wake.Dispose();
        _logFilter.Dispose();
    }

    /// <summary>
    /// The arrows' traffic counters, or none where nft cannot keep them (the most-used exception
    /// then ranks by routes alone, as it would for a host that forwards nothing).
    /// </summary>
    private async Task<ArrowTraffic?> StartTrafficAsync(CancellationToken cancellationToken)
    {
        var traffic = new ArrowTraffic(_shell, _options.InterfacePrefix);
        try
        {
            await traffic.InitializeAsync(cancellationToken).ConfigureAwait(false);
            return traffic;
        }
        catch (HostCommandException e)
        {
            _log($"{Node}: arrow traffic is not counted (the most-used exception ranks by routes only): {e.Message}");
            return null;
        }
    }

    private async Task CleanAsync(string what, Func<ValueTask> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Logged; the remaining steps still run.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _log($"{Node}: shutdown: {what} failed: {e.Message}");
        }
    }
}
