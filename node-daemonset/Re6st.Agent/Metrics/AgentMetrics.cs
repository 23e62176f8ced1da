using Prometheus;
using Re6st.Agent.Babel;
using Re6st.Agent.Lifecycle;
using Re6st.Agent.Probing;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;

namespace Re6st.Agent.Metrics;

/// <summary>
/// The agent's metrics (Prometheus text format), in a registry of its own so several agents can
/// share a process (the lab, the tests). Every series carries the host's node and mesh as static
/// labels. Counters count decisions as they happen; gauges are set from one snapshot per tick.
/// </summary>
public sealed class AgentMetrics
{
    private static readonly string[] ArrowLabels = ["interface", "peer", "submesh"];

    private readonly Counter _created;
    private readonly Counter _destroyed;
    private readonly Counter _accepted;
    private readonly Counter _adopted;
    private readonly Counter _rejected;
    private readonly Counter _spared;
    private readonly Counter _drainsStarted;
    private readonly Histogram _drainSeconds;
    private readonly Histogram _stepSeconds;
    private readonly Histogram _phaseSeconds;
    private readonly Histogram _periodLateness;
    private readonly Counter _stepFailures;
    private readonly Counter _babeldRestarts;
    private readonly Counter _babeldRunaways;
    private readonly Counter _suppressedLines;
    private readonly Counter _rejectedInputs;
    private readonly Gauge _tombstones;
    private readonly Gauge _backedOff;
    private readonly Gauge _babeldUp;
    private readonly Gauge _arrows;
    private readonly Gauge _routes;
    private readonly Gauge _arrowRoutes;
    private readonly Gauge _arrowCost;
    private readonly Gauge _arrowRtt;
    private readonly Gauge _arrowReachable;
    private readonly Gauge _refreshPeriod;
    private readonly Gauge _standIns;
    private readonly Gauge _handOver;
    private readonly Gauge _lastDestruction;
    private readonly Gauge _subMeshMembers;
    private HashSet<(string, string, string)> _arrowSeries = [];
    private HashSet<string> _subMeshSeries = new(StringComparer.Ordinal);
    private HashSet<(string, string, string, string)> _stateSeries = [];

    static AgentMetrics()
    {
        // prometheus-net's default registry would otherwise listen to every EventCounter and Meter
        // of the runtime in the background; the agent exports only its own registries.
        Prometheus.Metrics.SuppressDefaultMetrics();
    }

    public AgentMetrics(string node, string mesh)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        Registry.SetStaticLabels(new Dictionary<string, string> { ["node"] = node, ["mesh"] = mesh });
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _created = f.CreateCounter("re6st_arrows_created_total", "Arrows this host initiated, by the selection step that chose the peer (random, bootstrap, preferred, small-mesh).", "reason", "technology");
        _destroyed = f.CreateCounter("re6st_arrows_destroyed_total", "Arrows removed at this host, by reason: random (not in use), drained, forced-after-max-drain, dead (failed its probes), unauthenticated (no Babel with the mesh's key), closed-by-peer, peer-left, replanned, cut, agent-restart (a tunnel that lives in the agent's processes, removed as the agent hands its host over).", "reason", "technology");
        _accepted = f.CreateCounter("re6st_arrows_accepted_total", "Arrows peers opened towards this host and this host accepted.", "technology");
        _adopted = f.CreateCounter("re6st_arrows_adopted_total", "Arrows a restarted agent took over from its previous run (their tunnels had stayed up).", "technology");
        _rejected = f.CreateCounter("re6st_arrows_rejected_total", "Arrows peers published towards this host that it refused, by reason (not-a-member, technology).", "reason");
        _spared = f.CreateCounter("re6st_arrows_spared_total", "Arrows the destruction draw picked but an exception kept (most-used).", "reason");
        _drainsStarted = f.CreateCounter("re6st_drains_started_total", "Arrows in use that started draining (routes moved away through Babel before the cut).");
        _drainSeconds = f.CreateHistogram("re6st_drain_duration_seconds", "Time from the start of a drain to the arrow's removal, by outcome (drained, forced).", ["outcome"], new HistogramConfiguration
        {
            Buckets = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
        });
        _stepSeconds = f.CreateHistogram("re6st_step_duration_seconds", "How long each step of the agent's loop took (read the peers, accept, drain, destroy at a period's end, top up, publish); the loop runs one step per tick (1 s) and at each period's end.", new HistogramConfiguration
        {
            Buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
        });
        _phaseSeconds = f.CreateHistogram("re6st_phase_duration_seconds", "How long each phase of the agent's steps took, by phase (replan, dead, hand-over, tombstones, accept, destroy, select, publish).", ["phase"], new HistogramConfiguration
        {
            Buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
        });
        _periodLateness = f.CreateHistogram("re6st_period_end_lateness_seconds", "How late the step that ended each refresh period ran after the period was due (the next period counts from that step, so this is how much longer than the policy's the periods run).", new HistogramConfiguration
        {
            Buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
        });
        _stepFailures = f.CreateCounter("re6st_step_failures_total", "Lifecycle phases that failed (retried on the next tick), by phase.", "phase");
        _babeldRestarts = f.CreateCounter("re6st_babeld_restarts_total", "Times babeld was restarted after it exited.");
        _babeldRunaways = f.CreateCounter("re6st_babeld_runaway_restarts_total", "Times babeld wrote more than its runaway limit of lines in a second (looping on an error, reading no packet) and was restarted, its tunnels kept.");
        _suppressedLines = f.CreateCounter("re6st_log_lines_suppressed_total", "Log lines left out as repeats of a line already written in the same 10 s window (a summary line says how many), by source (babeld, agent).", "source");
        _rejectedInputs = f.CreateCounter("re6st_peer_input_rejected_total", "Values peers published in their MeshNode statuses that this host refused (not a WireGuard key, an address no tunnel may dial, a name that is no host's, a port out of range, lists past their bound), each logged with the reason and counted once per version of the peer's status.");
        _tombstones = f.CreateGauge("re6st_tombstones", "Names of removed arrows held by a stand-in interface until babeld has forgotten their neighbours.");
        _backedOff = f.CreateGauge("re6st_peers_backed_off", "Peers left out of this host's random draw for now because their arrows failed to come up or died (30 s doubling to 10 min, over when an arrow to them comes up).");
        _standIns = f.CreateGauge("re6st_stand_ins", "Peers whose prefixes this host announces while their agents hand them over to their next run.");
        _handOver = f.CreateGauge("re6st_hand_over", "1 while this host is between two runs of its agent: handed over (its peers stand in for it until its babeld has its neighbours back), or taking over what a crashed run left (the routes its babeld left, until the new one has its own).");
        _babeldUp = f.CreateGauge("re6st_babeld_up", "1 while the agent is connected to babeld's control socket.");
        _arrows = f.CreateGauge("re6st_arrows", "Arrows of this host by state (active, draining), technology and direction (initiated, accepted).", "state", "technology", "direction", "submesh");
        _routes = f.CreateGauge("re6st_routes_installed", "Routes babeld has installed (the routing-table size).");
        _arrowRoutes = f.CreateGauge("re6st_arrow_routes", "Installed routes whose next hop is over this arrow.", ArrowLabels);
        _arrowCost = f.CreateGauge("re6st_arrow_cost", "Babel's cost of the neighbour over this arrow (65535: unreachable).", ArrowLabels);
        _arrowRtt = f.CreateGauge("re6st_arrow_rtt_seconds", "Round-trip time measured inside this arrow's tunnel by the agent's probes.", ArrowLabels);
        _refreshPeriod = f.CreateGauge("re6st_policy_refresh_period_seconds", "The policy's refresh period: every period a share of the arrows is destroyed.");
        _lastDestruction = f.CreateGauge("re6st_last_policy_destruction_timestamp_seconds", "When the policy last destroyed one of this host's arrows (random, drained or forced); the agent's start before the first.");
        _subMeshMembers = f.CreateGauge("re6st_submesh_members", "Hosts in each sub-mesh this host belongs to, itself included (what its routing table should reach).", "submesh");
        _lastDestruction.SetToCurrentTimeUtc();

        // Every reason has a series from the start, so that increase() sees the first event too.
        foreach (var technology in new[] { "wireguard", "openvpn" })
        {
            foreach (var reason in new[] { "random", "bootstrap", "preferred", "small-mesh" })
            {
                _created.WithLabels(reason, technology);
            }

            foreach (var reason in Enum.GetValues<RemovalReason>().Select(r => r.Name()))
            {
                _destroyed.WithLabels(reason, technology);
            }
        }
        foreach (var source in new[] { "babeld", "agent" })
        {
            _suppressedLines.WithLabels(source);
        }

        _arrowReachable = f.CreateGauge("re6st_arrow_probe_up", "1 while this arrow answers the agent's probes inside the tunnel.", ArrowLabels);
    }

    public CollectorRegistry Registry { get; }

    public void Created(string reason, string technology) => _created.WithLabels(reason, technology).Inc();

    public void Destroyed(RemovalReason reason, string technology)
    {
        _destroyed.WithLabels(reason.Name(), technology).Inc();
        if (reason.IsThePolicys())
        {
            _lastDestruction.SetToCurrentTimeUtc();
        }
    }

    /// <summary>The policy's period and the size of each of this host's sub-meshes, as the current view has them.</summary>
    public void ObservePlan(TimeSpan refreshPeriod, IReadOnlyDictionary<string, int> subMeshMembers)
    {
        ArgumentNullException.ThrowIfNull(subMeshMembers);
        _refreshPeriod.Set(refreshPeriod.TotalSeconds);
        foreach (var (subMesh, members) in subMeshMembers)
        {
            _subMeshMembers.WithLabels(subMesh).Set(members);
        }

        // A sub-mesh this host left (a bridge role ended) must not keep counting.
        foreach (var left in _subMeshSeries.Where(m => !subMeshMembers.ContainsKey(m)))
        {
            _subMeshMembers.RemoveLabelled(left);
        }

        _subMeshSeries = [.. subMeshMembers.Keys];
    }

    public void Accepted(string technology) => _accepted.WithLabels(technology).Inc();

    public void Adopted(string technology) => _adopted.WithLabels(technology).Inc();

    public void Rejected(string reason) => _rejected.WithLabels(reason).Inc();

    public void Spared(string reason) => _spared.WithLabels(reason).Inc();

    public void DrainStarted() => _drainsStarted.Inc();

    public void StepTook(TimeSpan duration) => _stepSeconds.Observe(duration.TotalSeconds);

    public void PhaseTook(string phase, TimeSpan duration) => _phaseSeconds.WithLabels(phase).Observe(duration.TotalSeconds);

    public void PeriodEndedLate(TimeSpan lateness) => _periodLateness.Observe(Math.Max(0, lateness.TotalSeconds));

    public void DrainEnded(TimeSpan duration, bool forced) => _drainSeconds.WithLabels(forced ? "forced" : "drained").Observe(duration.TotalSeconds);

    public void StepFailed(string phase) => _stepFailures.WithLabels(phase).Inc();

    public void ObserveBackoff(int peers) => _backedOff.Set(peers);

    public void ObserveHandOver(int standIns, bool handedOver)
    {
        _standIns.Set(standIns);
        _handOver.Set(handedOver ? 1 : 0);
    }

    /// <summary>What keeps babeld and the logs in bounds: runaway restarts, repeated lines left out, tombstones.</summary>
    public void ObserveBounds(int babeldRunaways, long babeldSuppressed, long agentSuppressed, int tombstones, long rejectedInputs = 0)
    {
        _rejectedInputs.IncTo(rejectedInputs);
        _babeldRunaways.IncTo(babeldRunaways);
        _suppressedLines.WithLabels("babeld").IncTo(babeldSuppressed);
        _suppressedLines.WithLabels("agent").IncTo(agentSuppressed);
        _tombstones.Set(tombstones);
    }

    /// <summary>Sets the gauges from one snapshot; series of arrows that are gone are removed.</summary>
    public void Observe(IReadOnlyCollection<ArrowRecord> arrows, BabelState babel, int babeldRestarts, Func<string, ProbeReading?> probe)
    {
        ArgumentNullException.ThrowIfNull(arrows);
        ArgumentNullException.ThrowIfNull(babel);
        ArgumentNullException.ThrowIfNull(probe);
        _babeldRestarts.IncTo(babeldRestarts);
        _babeldUp.Set(babel.Connected ? 1 : 0);
        _routes.Set(babel.InstalledRouteCount);

        var states = arrows
            .GroupBy(a => (State: a.State == ArrowState.Draining ? "draining" : "active", Technology: a.Technology.ToName(), Direction: a.Initiated ? "initiated" : "accepted", a.SubMesh))
            .ToDictionary(g => (g.Key.State, g.Key.Technology, g.Key.Direction, g.Key.SubMesh), g => g.Count());
        foreach (var gone in _stateSeries.Where(s => !states.ContainsKey(s)))
        {
            _arrows.WithLabels(gone.Item1, gone.Item2, gone.Item3, gone.Item4).Set(0);
        }

        foreach (var ((state, technology, direction, subMesh), count) in states)
        {
            _arrows.WithLabels(state, technology, direction, subMesh).Set(count);
        }

        _stateSeries = [.. _stateSeries, .. states.Keys];

        var series = new HashSet<(string, string, string)>();
        foreach (var arrow in arrows)
        {
            var labels = (arrow.Interface, arrow.Peer, arrow.SubMesh);
            series.Add(labels);
            string[] values = [arrow.Interface, arrow.Peer, arrow.SubMesh];
            _arrowRoutes.WithLabels(values).Set(babel.InstalledRoutesVia(arrow.Interface));
            if (babel.NeighboursOn(arrow.Interface).FirstOrDefault() is { } neighbour)
            {
                _arrowCost.WithLabels(values).Set(neighbour.Cost);
            }
            else
            {
                _arrowCost.RemoveLabelled(values);
            }

            if (probe(arrow.Interface) is { } reading)
            {
                _arrowReachable.WithLabels(values).Set(reading.Up ? 1 : 0);
                if (reading.Rtt is { } rtt)
                {
                    _arrowRtt.WithLabels(values).Set(rtt.TotalSeconds);
                }
            }
        }

        foreach (var (i, p, s) in _arrowSeries.Where(s => !series.Contains(s)))
        {
            foreach (var gauge in new[] { _arrowRoutes, _arrowCost, _arrowRtt, _arrowReachable })
            {
                gauge.RemoveLabelled(i, p, s);
            }
        }

        _arrowSeries = series;
    }
}
