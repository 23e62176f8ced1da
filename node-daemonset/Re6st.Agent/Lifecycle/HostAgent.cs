using System.Collections.Concurrent;
using System.Net;
using Re6st.Agent.Babel;
using Re6st.Agent.Host;
using Re6st.Agent.Membership;
using Re6st.Agent.Metrics;
using Re6st.Agent.Probing;
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
public sealed class HostAgent : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly IMembershipSource _source;
    private readonly HostShell _shell;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly IRandomSource _random;
    private readonly Dictionary<string, ArrowRecord> _arrows = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _decisions = new(StringComparer.Ordinal);

    // Arrow ids peers publish towards this host that it will not take: refused (trust no node) or
    // found dead here; forgotten once the initiator stops publishing them.
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);
    private ArrowProber? _prober;
    private Announcements? _announcements;
    private ArrowJournal? _journal;
    private HostTunnels? _tunnels;
    private BabelDrain? _drain;
    private BabeldProcess? _babeld;
    private BabelControlClient? _control;
    private InterfacePool? _pool;
    private AgentView? _view;
    private string[] _memberships = [];
    private DateTimeOffset _nextPeriod;
    private string _configText = "";
    private DateTimeOffset _babeldStartedAt;
    private int _restartsBefore;

    public HostAgent(AgentOptions options, IMembershipSource source, HostShell shell, TimeProvider time, IRandomSource random, Action<string>? log = null)
    {
        _options = options;
        _source = source;
        _shell = shell;
        _time = time;
        _random = random;
        _log = log ?? (_ => { });
        Metrics = new AgentMetrics(options.Node, options.Mesh);
    }

    public AgentMetrics Metrics { get; }

    public string Node => _options.Node;

    public BabelState Babel => _control?.State ?? BabelState.Empty;

    /// <summary>Times babeld exited and was restarted by its supervisor (restarts for a new configuration excluded).</summary>
    public int BabeldRestarts => _restartsBefore + (_babeld?.Restarts ?? 0);

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

    /// <summary>Waits for this host's plan, then starts WireGuard, the drain table and babeld.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_options.StateDirectory);
        _tunnels = await HostTunnels.CreateAsync(_shell, Node, _options.StateDirectory, _options.Technologies, _log, cancellationToken).ConfigureAwait(false);
        _drain = new BabelDrain(_shell);
        await _drain.InitializeAsync(cancellationToken).ConfigureAwait(false);
        _prober = ArrowProber.Start(_shell, _options.Probe, OnDead, _log);
        while ((_view = await _source.ReadAsync(cancellationToken).ConfigureAwait(false)) is null)
        {
            await Task.Delay(_options.Tick, _time, cancellationToken).ConfigureAwait(false);
        }

        _memberships = [.. _view.Plan.Memberships.Select(m => m.SubMesh)];
        _announcements = new Announcements(_shell);
        await _announcements.ApplyAsync(_view.Plan, cancellationToken).ConfigureAwait(false);
        _pool = new InterfacePool(_options.InterfacePrefix, _memberships.Length, _options.PoolSize, _options.PortBase);
        _configText = WriteConfig(_view);
        _journal = new ArrowJournal(Path.Combine(_options.StateDirectory, "arrows.json"));
        await AdoptAsync(ConfigPath, cancellationToken).ConfigureAwait(false);
        StartBabeld();
        _control = new BabelControlClient(SocketPath, _time, _log);
        _control.Start();
        _nextPeriod = _time.GetUtcNow() + _view.Policy.RefreshPeriod;
        await PublishAsync(cancellationToken).ConfigureAwait(false);
    }

    private string ConfigPath => Path.Combine(_options.StateDirectory, "babeld.conf");

    private string SocketPath => Path.Combine(_options.StateDirectory, "babeld.sock");

    /// <summary>babeld's configuration for this plan (the pool's names, filters, keys); returns its text.</summary>
    private string WriteConfig(AgentView view)
    {
        var config = BabelConfig.ForNode(
            view.Plan,
            Enumerable.Range(0, _memberships.Length).ToDictionary(m => _memberships[m], m => _pool!.NamesOf(m)),
            SocketPath,
            view.Keys?.Signing ?? _options.Key,
            view.HelloInterval);
        BabelConfigFile.Write(ConfigPath, config);
        return BabelConfigWriter.Write(config);
    }

    private void StartBabeld()
    {
        _babeldStartedAt = _time.GetUtcNow();
        _babeld = new BabeldProcess(new BabeldOptions(ConfigPath) { ControlSocketPath = SocketPath, NetworkNamespace = _shell.Netns }, _time, _log);
        _babeld.Start();
    }

    /// <summary>
    /// A new plan (a bridge elected or retired, another aggregate to announce) or a new signing key.
    /// babeld takes filters and keys only at start-up, so it restarts with the new configuration;
    /// the tunnels stay, unless the host's sub-meshes changed: their pools are then rebuilt and the
    /// arrows of the old ones go ("replanned").
    /// </summary>
    private async Task ReplanAsync(AgentView view, CancellationToken cancellationToken)
    {
        string[] memberships = [.. view.Plan.Memberships.Select(m => m.SubMesh)];
        if (!memberships.SequenceEqual(_memberships))
        {
            foreach (var arrow in Arrows)
            {
                await RemoveAsync(arrow, "replanned", cancellationToken).ConfigureAwait(false);
            }

            _memberships = memberships;
            _pool = new InterfacePool(_options.InterfacePrefix, _memberships.Length, _options.PoolSize, _options.PortBase);
        }

        await _announcements!.ApplyAsync(view.Plan, cancellationToken).ConfigureAwait(false);
        var text = WriteConfig(view);
        if (text == _configText)
        {
            return;
        }

        _log($"{Node}: new plan or key: babeld restarts with the new configuration");
        _restartsBefore += _babeld!.Restarts;
        await _babeld.DisposeAsync().ConfigureAwait(false);
        StartBabeld();
        _configText = text;
        Count("babeld-reconfigured");
    }

    /// <summary>
    /// After a restart: the tunnels the journal lists and that still run are adopted as they were
    /// (draining ones keep draining); any other arrow interface of this host is removed. A babeld
    /// the previous run left is stopped: the new one reads the same configuration.
    /// </summary>
    private async Task AdoptAsync(string configPath, CancellationToken cancellationToken)
    {
        var stale = $"babeld -c {configPath}";
        if ((await _shell.RunAsync("pkill", ["-TERM", "-x", "-f", stale], cancellationToken: cancellationToken).ConfigureAwait(false)).ExitCode == 0)
        {
            var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(5);
            while ((await _shell.RunAsync("pgrep", ["-x", "-f", stale], cancellationToken: cancellationToken).ConfigureAwait(false)).ExitCode == 0 && _time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(false);
            }

            await _shell.RunAsync("pkill", ["-KILL", "-x", "-f", stale], cancellationToken: cancellationToken).ConfigureAwait(false);
            _log($"{Node}: stopped the babeld a previous run left");
        }

        var names = Enumerable.Range(0, _memberships.Length).SelectMany(_pool!.NamesOf).ToHashSet(StringComparer.Ordinal);
        var live = await _tunnels!.AdoptAsync(_options.InterfacePrefix, names, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        foreach (var entry in _journal!.Read())
        {
            if (live.GetValueOrDefault(entry.Interface) != entry.Technology || Array.IndexOf(_memberships, entry.SubMesh) < 0 || _pool!.Take(entry.Interface) is not { } slot)
            {
                continue;
            }

            var record = new ArrowRecord(entry.Id, slot, entry.Peer, entry.SubMesh, entry.Technology, entry.Initiated, entry.Created)
            {
                State = entry.State,
                DrainStartedAt = entry.DrainStartedAt,
            };
            if (record.State == ArrowState.Draining)
            {
                await _drain!.StartAsync(record.Interface, cancellationToken).ConfigureAwait(false);
            }

            await TrackAsync(record, cancellationToken).ConfigureAwait(false);
            Count("adopted");
            Metrics.Adopted(Technology(record.Technology));
            _log($"{Node}: adopted {record.Interface} to {record.Peer} ({record.Technology}, {(record.Initiated ? "initiated" : "accepted")})");
        }

        var adopted = Arrows.Select(a => a.Interface).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, technology) in live.Where(l => !adopted.Contains(l.Key)))
        {
            _log($"{Node}: removing {name}, left by a previous run and not in its journal");
            await _tunnels.DeleteAsync(name, technology, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
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

            try
            {
                await Task.Delay(_options.Tick, _time, cancellationToken).ConfigureAwait(false);
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
        _view = await _source.ReadAsync(cancellationToken).ConfigureAwait(false) ?? _view;
        var view = _view!;
        Metrics.ObservePlan(view.Policy.RefreshPeriod, view.Plan.Memberships.ToDictionary(m => m.SubMesh, m => view.MembersOf(m.SubMesh).Count() + 1, StringComparer.Ordinal));
        var now = _time.GetUtcNow();
        var periodEnded = now >= _nextPeriod;
        if (periodEnded)
        {
            _nextPeriod = now + view.Policy.RefreshPeriod;
        }

        try
        {
            await PhaseAsync("replan", () => ReplanAsync(view, cancellationToken)).ConfigureAwait(false);
            await PhaseAsync("dead", () => RemoveDeadAsync(now, cancellationToken)).ConfigureAwait(false);
            await PhaseAsync("accept", () => AcceptAsync(view, now, cancellationToken)).ConfigureAwait(false);
            await PhaseAsync("destroy", () => DestroyAsync(view, now, periodEnded, cancellationToken)).ConfigureAwait(false);
            await PhaseAsync("select", () => SelectAsync(view, now, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            await PublishAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PhaseAsync(string name, Func<Task> phase)
    {
        try
        {
            await phase().ConfigureAwait(false);
        }
        catch (Exception e) when (e is HostCommandException or TimeoutException or IOException or InvalidOperationException)
        {
            Count("step-failed/" + name);
            Metrics.StepFailed(name);
            _log($"{Node}: {name} failed: {e.Message}");
        }
    }

    /// <summary>
    /// Arrows peers opened towards this host. Trust no node: an arrow is accepted only from a host
    /// that this host's own plan lists in the sub-mesh the arrow claims, with the key that host
    /// publishes; arrows whose initiator no longer publishes them are removed.
    /// </summary>
    private async Task AcceptAsync(AgentView view, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var published = new Dictionary<string, (PeerView Peer, PeerStatus Status, PublishedArrow Arrow, int Membership)>(StringComparer.Ordinal);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var peer in view.Peers)
        {
            if (peer.Status is not { } status)
            {
                continue;
            }

            var allowed = Technologies(view, peer);
            foreach (var arrow in status.Arrows.Where(a => a.Peer == Node))
            {
                var m = Array.IndexOf(_memberships, arrow.SubMesh);
                var refusal = m < 0 || !peer.SubMeshes.Contains(arrow.SubMesh) ? "not-a-member"
                    : (allowed & arrow.Technology) == 0 || HostTunnels.PeerIdentity(arrow.Technology, status.WireGuardKey, status.OpenVpnFingerprint) is null ? "technology"
                    : null;
                ids.Add(arrow.Id);
                if (refusal is not null && _refused.Add(arrow.Id))
                {
                    Metrics.Rejected(refusal);
                    _log($"{Node}: refused arrow {arrow.Id} from {peer.Node.Name} in {arrow.SubMesh}: {refusal}");
                }
                else if (refusal is null && !_refused.Contains(arrow.Id))
                {
                    published[arrow.Id] = (peer, status, arrow, m);
                }
            }
        }

        _refused.IntersectWith(ids);

        // An accepted arrow is the initiator's arrow of that id: once it stops publishing it (or
        // publishes a new arrow in its place, maybe on the same interface name), this end goes.
        foreach (var record in Arrows.Where(a => !a.Initiated && !published.ContainsKey(a.Id)))
        {
            await RemoveAsync(record, "closed-by-peer", cancellationToken).ConfigureAwait(false);
        }

        foreach (var (id, (peer, status, arrow, m)) in published)
        {
            if (Arrows.FirstOrDefault(a => !a.Initiated && a.Id == id) is { } existing)
            {
                // The initiator drains it: Babel is dropped at this end too, so routes leave it both ways.
                if (arrow.Draining && existing.State != ArrowState.Draining)
                {
                    await _drain!.StartAsync(existing.Interface, cancellationToken).ConfigureAwait(false);
                    existing.State = ArrowState.Draining;
                    existing.DrainStartedAt = now;
                }

                continue;
            }

            if (_pool!.Take(m) is not { } slot)
            {
                continue;
            }

            var identity = HostTunnels.PeerIdentity(arrow.Technology, status.WireGuardKey, status.OpenVpnFingerprint)!;
            var spec = new TunnelSpec(slot.Interface, arrow.Technology, identity, new IPEndPoint(status.Underlay, arrow.Port), slot.Port, LinkLocal(slot));
            if (await CreateTunnelAsync(spec, slot, cancellationToken).ConfigureAwait(false))
            {
                await TrackAsync(new ArrowRecord(id, slot, peer.Node.Name, arrow.SubMesh, arrow.Technology, initiated: false, now), cancellationToken).ConfigureAwait(false);
                Count("accepted");
                Metrics.Accepted(Technology(arrow.Technology));
            }
        }
    }

    /// <summary>The core's destruction policy on the arrows this host initiated.</summary>
    private async Task DestroyAsync(AgentView view, DateTimeOffset now, bool periodEnded, CancellationToken cancellationToken)
    {
        var members = view.Peers.Select(p => p.Node.Name).ToHashSet(StringComparer.Ordinal);
        var mine = Arrows.Where(a => a.Initiated && (periodEnded || a.State == ArrowState.Draining)).ToList();
        foreach (var gone in mine.Where(a => !members.Contains(a.Peer)).ToList())
        {
            await RemoveAsync(gone, "peer-left", cancellationToken).ConfigureAwait(false);
            mine.Remove(gone);
        }

        var babel = Babel;
        var statuses = mine.Select(a => new ArrowStatus(a.State, babel.InstalledRoutesVia(a.Interface) + FarEndRoutes(view, a), 0, a.DrainStartedAt)).ToArray();
        var decisions = ArrowDestruction.Decide(statuses, now, view.Policy, _random);
        for (var i = 0; i < mine.Count; i++)
        {
            var (arrow, decision) = (mine[i], decisions[i]);
            if (arrow.State == ArrowState.Draining)
            {
                _log($"{Node}: draining {arrow.Interface} to {arrow.Peer}: {statuses[i].RoutesCarried} route(s) still use it -> {decision.Action} ({decision.Reason})");
            }

            switch (decision.Action)
            {
                case ArrowAction.StartDrain:
                    await StartDrainAsync(arrow, now, cancellationToken).ConfigureAwait(false);
                    break;
                case ArrowAction.Destroy:
                    await RemoveAsync(arrow, decision.Reason switch
                    {
                        DecisionReason.Drained => "drained",
                        DecisionReason.ForcedAfterMaxDrain => "forced-after-max-drain",
                        _ => "random",
                    }, cancellationToken).ConfigureAwait(false);
                    break;
                case ArrowAction.Keep when decision.Reason == DecisionReason.MostUsedSpared:
                    Count("most-used-spared");
                    Metrics.Spared("most-used");
                    break;
            }
        }
    }

    /// <summary>The core's selection: new arrows to random peers of each sub-mesh, up to the policy's count.</summary>
    private async Task SelectAsync(AgentView view, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var m = 0; m < _memberships.Length; m++)
        {
            var subMesh = _memberships[m];
            var peers = view.MembersOf(subMesh).Where(p => p.Status is not null).ToList();
            var nodes = new List<NodeInfo> { Self(view) };
            nodes.AddRange(peers.Select(Usable));
            var set = new MemberSet(nodes);
            var here = Arrows.Where(a => a.SubMesh == subMesh).ToList();
            var connected = here.Select(a => set.IndexOf(a.Peer)).Where(i => i > 0).Distinct().ToArray();
            var outgoing = here.Count(a => a.Initiated && a.State == ArrowState.Active);
            foreach (var choice in ArrowSelection.Select(set, 0, connected, outgoing, view.Policy, _random))
            {
                var peer = peers[choice.Peer - 1];
                var status = peer.Status!;
                if (HostTunnels.PeerIdentity(choice.Technology, status.WireGuardKey, status.OpenVpnFingerprint) is not { } identity || _pool!.Take(m) is not { } slot)
                {
                    continue;
                }

                var spec = new TunnelSpec(slot.Interface, choice.Technology, identity, null, slot.Port, LinkLocal(slot));
                if (await CreateTunnelAsync(spec, slot, cancellationToken).ConfigureAwait(false))
                {
                    await TrackAsync(new ArrowRecord(ArrowRecord.NewId(), slot, peer.Node.Name, subMesh, choice.Technology, initiated: true, now), cancellationToken).ConfigureAwait(false);
                    var reason = SelectionReason(choice.Reason);
                    Count("created/" + reason);
                    Metrics.Created(reason, Technology(choice.Technology));
                }
            }
        }
    }

    /// <summary>
    /// Starts draining an arrow this host initiated, as the policy does when it draws an arrow in
    /// use: routes move away through Babel, and the arrow goes once none uses it (or after maxDrain).
    /// </summary>
    public async Task DrainAsync(string interfaceName, CancellationToken cancellationToken)
    {
        var arrow = Arrows.FirstOrDefault(a => a.Interface == interfaceName && a.Initiated)
            ?? throw new InvalidOperationException($"{Node} initiated no arrow on {interfaceName}");
        await StartDrainAsync(arrow, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
    }

    private async Task StartDrainAsync(ArrowRecord arrow, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _drain!.StartAsync(arrow.Interface, cancellationToken).ConfigureAwait(false);
        arrow.State = ArrowState.Draining;
        arrow.DrainStartedAt = now;
        Count("drain-started");
        Metrics.DrainStarted();
    }

    /// <summary>
    /// Exception to the drain: an arrow that stopped answering its probes carries nothing any more,
    /// so its link goes down at once (babeld drops the routes over it the moment it sees that, long
    /// before its hellos would time out) and it is removed on the next tick.
    /// </summary>
    private void OnDead(string interfaceName)
    {
        ArrowRecord? arrow;
        lock (_arrows)
        {
            _arrows.TryGetValue(interfaceName, out arrow);
        }

        if (arrow is null)
        {
            return;
        }

        arrow.Dead = true;
        _ = Task.Run(async () =>
        {
            var down = await _shell.RunAsync("ip", ["link", "set", interfaceName, "down"]).ConfigureAwait(false);
            _log($"{Node}: {interfaceName} to {arrow.Peer} is dead: link down ({down.ExitCode})");
        });
    }

    private async Task RemoveDeadAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var babel = Babel;
        foreach (var arrow in Arrows)
        {
            // Trust no node: a tunnel that carries packets but whose far end never speaks Babel with
            // the mesh's key (a member without the key, a broken babeld) is an arrow in name only.
            // Draining arrows are left out (their Babel is dropped on purpose), and so is the
            // settling time after babeld (re)starts.
            var unauthenticated = !arrow.Dead && arrow.State == ArrowState.Active && babel.Connected
                && now - arrow.Created > _options.AuthenticationGrace && now - _babeldStartedAt > _options.AuthenticationGrace
                && !babel.NeighboursOn(arrow.Interface).Any(n => n.Reach != 0);
            if (!arrow.Dead && !unauthenticated)
            {
                continue;
            }

            if (!arrow.Initiated)
            {
                // Not taken again while its initiator still publishes it: that end finds it out too.
                _refused.Add(arrow.Id);
            }

            await RemoveAsync(arrow, arrow.Dead ? "dead" : "unauthenticated", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes an arrow at once, without draining (what a dead arrow amounts to).</summary>
    public async Task CutAsync(string interfaceName, CancellationToken cancellationToken)
    {
        var arrow = Arrows.FirstOrDefault(a => a.Interface == interfaceName)
            ?? throw new InvalidOperationException($"{Node} has no arrow on {interfaceName}");
        await RemoveAsync(arrow, "cut", cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> CreateTunnelAsync(TunnelSpec spec, Slot slot, CancellationToken cancellationToken)
    {
        try
        {
            await _tunnels!.CreateAsync(spec, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (HostCommandException e)
        {
            _pool!.Return(slot);
            _log($"{Node}: arrow on {spec.Interface} failed: {e.Message}");
            return false;
        }
    }

    private async Task RemoveAsync(ArrowRecord arrow, string reason, CancellationToken cancellationToken)
    {
        _log($"{Node}: removing {arrow.Interface} to {arrow.Peer} ({reason})");
        _prober!.Forget(arrow.Interface);
        await _tunnels!.DeleteAsync(arrow.Interface, arrow.Technology, cancellationToken).ConfigureAwait(false);
        await _drain!.StopAsync(arrow.Interface, cancellationToken).ConfigureAwait(false);
        lock (_arrows)
        {
            _arrows.Remove(arrow.Interface);
        }

        Count("destroyed/" + reason);
        Metrics.Destroyed(reason, Technology(arrow.Technology));
        if (arrow.DrainStartedAt is { } started && arrow.Initiated)
        {
            Metrics.DrainEnded(_time.GetUtcNow() - started, forced: reason == "forced-after-max-drain");
        }

        _pool!.Return(arrow.Slot);
    }

    /// <summary>
    /// Routes the far end of an arrow this host initiated still sends over it, as that peer
    /// publishes them. An arrow is in use while either end routes over it; a peer that does not
    /// list the arrow has no end of it, so no route of its own goes over it.
    /// </summary>
    private int FarEndRoutes(AgentView view, ArrowRecord arrow)
    {
        var status = view.Peers.FirstOrDefault(p => p.Node.Name == arrow.Peer)?.Status;
        var accepted = status?.Accepted.FirstOrDefault(a => a.Peer == Node && a.SubMesh == arrow.SubMesh);
        return arrow.State == ArrowState.Draining ? accepted?.Routes ?? 0 : 0;
    }

    private Task PublishAsync(CancellationToken cancellationToken)
    {
        var all = Arrows;
        var babel = Babel;
        Metrics.Observe(all, babel, BabeldRestarts, i => _prober?.Read(i));
        _journal?.Write(all);
        var initiated = all.Where(a => a.Initiated).Select(a => new PublishedArrow(a.Id, a.Peer, a.SubMesh, a.Technology, a.Slot.Port, a.State == ArrowState.Draining)).ToList();
        var accepted = all.Where(a => !a.Initiated).Select(a => new AcceptedArrow(a.Peer, a.SubMesh, babel.InstalledRoutesVia(a.Interface))).ToList();
        var status = new PeerStatus(Node, _options.Underlay, _tunnels!.WireGuardKey, initiated)
        {
            Accepted = accepted,
            OpenVpnFingerprint = _tunnels.OpenVpnFingerprint,
            Technologies = _tunnels.Available,
            Routes = babel.Connected ? babel.InstalledRouteCount : null,
        };
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

    private static string SelectionReason(SelectionReason reason) => reason switch
    {
        Core.Arrows.SelectionReason.SmallMesh => "small-mesh",
        _ => reason.ToString().ToLowerInvariant(),
    };

    private static string Technology(TunnelTechnology technology) => technology == TunnelTechnology.OpenVpn ? "openvpn" : "wireguard";

    private void Count(string what) => _decisions.AddOrUpdate(what, 1, (_, n) => n + 1);

    /// <summary>
    /// A link-local address per arrow interface, distinct from the other end's: a hash of the host's
    /// name, then the sub-mesh and the slot (fe80::hhhh:hhhh:m:s).
    /// </summary>
    private IPAddress LinkLocal(Slot slot)
    {
        var h = SeedMixer.Hash(Node);
        return IPAddress.Parse($"fe80::{(h >> 48) & 0xffff:x}:{(h >> 32) & 0xffff:x}:{slot.Membership + 1:x}:{slot.Index + 1:x}");
    }

    /// <summary>Clean shutdown: babeld stops, every arrow interface and the drain table go.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_prober is not null)
        {
            await _prober.DisposeAsync().ConfigureAwait(false);
        }

        if (_control is not null)
        {
            await _control.DisposeAsync().ConfigureAwait(false);
        }

        if (_babeld is not null)
        {
            await _babeld.DisposeAsync().ConfigureAwait(false);
        }

        if (_tunnels is not null)
        {
            await _tunnels.RemoveAllAsync(CancellationToken.None).ConfigureAwait(false);
            await _tunnels.DisposeAsync().ConfigureAwait(false);
        }

        if (_drain is not null)
        {
            await _drain.RemoveAsync(CancellationToken.None).ConfigureAwait(false);
        }

        if (_announcements is not null)
        {
            await _announcements.RemoveAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}
