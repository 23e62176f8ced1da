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

/// <summary>The phases of a tick: accept, destroy (the principle, with the in-use drain and the most-used exception), select, and the dead or unauthenticated arrows that go at once.</summary>
public sealed partial class HostAgent
{
    /// <summary>
    /// Arrows peers opened towards this host. Trust no node: an arrow is accepted only from a host
    /// that this host's own plan lists in the sub-mesh the arrow claims, with the key that host
    /// publishes; arrows whose initiator no longer publishes them are removed.
    /// </summary>
    private async Task AcceptAsync(AgentView view, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var published = new Dictionary<string, (PeerView Peer, PeerStatus Status, PublishedArrow Arrow, int Membership)>(StringComparer.Ordinal);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var denied = new HashSet<string>(StringComparer.Ordinal);
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

                // Exception (tunnel technology) on an arrow already up: when the rules come to deny
                // its technology (a label changed), its initiator drains it while the selection
                // replaces it (DestroyAsync), and this end keeps it meanwhile. Refused here, it would
                // be cut under its traffic and look dead to its initiator (an 11 s outage in a soak
                // drill). Bounded: kept while it drains, or for TechnologyGrace while its initiator
                // has not seen the change yet; refused after that.
                if (refusal == "technology" && (allowed & arrow.Technology) == 0 && Arrows.Any(a => !a.Initiated && a.Id == arrow.Id))
                {
                    var since = _deniedSince.TryGetValue(arrow.Id, out var first) ? first : _deniedSince[arrow.Id] = now;
                    denied.Add(arrow.Id);
                    if (arrow.Draining || now - since < TechnologyGrace)
                    {
                        refusal = null;
                    }
                }

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
        foreach (var id in _deniedSince.Keys.Where(id => !denied.Contains(id)).ToList())
        {
            _deniedSince.Remove(id);
        }

        // An accepted arrow is the initiator's arrow of that id: once it stops publishing it (or
        // publishes a new arrow in its place, maybe on the same interface name), this end goes.
        foreach (var record in Arrows.Where(a => !a.Initiated && !published.ContainsKey(a.Id)))
        {
            await RemoveAsync(record, RemovalReason.ClosedByPeer, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (id, (peer, status, arrow, m)) in published)
        {
            if (Arrows.FirstOrDefault(a => !a.Initiated && a.Id == id) is { } existing)
            {
                // The initiator drains it. Its end alone drops the arrow's Babel, both ways, in the
                // rhythm of its DrainPulse; a drop here too would outlast the initiator's breaths.
                if (arrow.Draining && existing.State != ArrowState.Draining)
                {
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
            var record = new ArrowRecord(id, slot, peer.Node.Name, arrow.SubMesh, arrow.Technology, initiated: false, now);
            using var span = _trace.Arrow("accept", record);
            if (await CreateTunnelAsync(spec, slot, cancellationToken).ConfigureAwait(false))
            {
                await TrackAsync(record, cancellationToken).ConfigureAwait(false);
                Count("accepted");
                Metrics.Accepted(arrow.Technology.ToName());
            }
        }
    }

    /// <summary>The core's destruction policy on the arrows this host initiated.</summary>
    private async Task DestroyAsync(AgentView view, DateTimeOffset now, bool periodEnded, CancellationToken cancellationToken)
    {
        var members = view.Peers.Select(p => p.Node.Name).ToHashSet(StringComparer.Ordinal);

        // Exception (tunnel technology) on arrows already up: an arrow whose technology the rules
        // now deny between its two ends (a label changed) is drained like a destroyed arrow in use,
        // and the selection replaces it with a technology they allow; its far end keeps it while it
        // drains (AcceptAsync). Bounded by maxDrain, as any drain.
        foreach (var arrow in Arrows.Where(a => a.Initiated && a.State == ArrowState.Active).ToList())
        {
            if (view.Peers.FirstOrDefault(p => p.Node.Name == arrow.Peer) is { } peer && (Technologies(view, peer) & arrow.Technology) == 0)
            {
                _log($"{Node}: {arrow.Interface} to {arrow.Peer}: the policy's technology rules no longer allow {arrow.Technology.ToName()} between the two; draining it while another arrow replaces it");
                arrow.DestroyReason = RemovalReason.Technology;
                await StartDrainAsync(arrow, now, cancellationToken).ConfigureAwait(false);
            }
        }

        // Exception (HandOver): the arrows to a peer that hands over are held, neither drawn nor
        // drained to their end, until its next run is back; and so are those between two hosts
        // while one stands in for the other, until the stand-in ends (it routes over one of them:
        // a restarted host that ended a drain of its only arrow to a peer still standing in for it
        // cut the two apart for 1 s in one real-node rollout).
        var mine = Arrows.Where(a => a.Initiated && (periodEnded || a.State == ArrowState.Draining) && !HandsOver(view, a.Peer, now) && !StandInBetween(view, a.Peer)).ToList();
        foreach (var gone in mine.Where(a => !members.Contains(a.Peer)).ToList())
        {
            await RemoveAsync(gone, RemovalReason.PeerLeft, cancellationToken).ConfigureAwait(false);
            mine.Remove(gone);
        }

        // The most-used exception ranks by routes, then by the traffic forwarded over each arrow
        // during the period that ends (pods' and transit's: see ArrowTraffic).
        var babel = Babel;
        var traffic = periodEnded && _traffic is not null
            ? await _traffic.SinceLastAsync([.. Arrows.Where(a => a.Initiated).Select(a => (a.Interface, a.Id))], cancellationToken).ConfigureAwait(false)
            : new Dictionary<string, long>();
        var statuses = mine.Select(a => new ArrowStatus(a.State, babel.InstalledRoutesVia(a.Interface) + FarEndRoutes(view, a), traffic.GetValueOrDefault(a.Id), a.DrainStartedAt)).ToArray();

        // Exception (HandOver) within the drain: a held arrow's drain pauses with Babel passing
        // (DrainPulse), and so do all of this host's drains while it stands in for a peer. That
        // peer's babeld is silent, so this host has one Babel neighbour fewer, and drops on its
        // other arrows can leave it none: in a real-node rollout after churn, d lost a and b for
        // 3.3 s while a handed over and drains had Babel dropped on d's two other arrows.
        var pulse = new DrainPulse(view.HelloInterval, _options.Tick);

        // Exception (last way out) within the drain: while no arrow of this host that is not
        // draining carries a route (the others just died, or their initiators drain them), its
        // drains pause with Babel passing and none concludes: dropping Babel on them could only
        // take its routes away with nowhere to go. In soak drills, hosts whose live arrows died
        // while their last ones drained were cut off from others for 4 to 6 s. The pause ends once
        // a new arrow carries a route (the selection draws replacements at once; a direct route to
        // its peer is the first), or at maxDrain.
        var lastWayOut = !Arrows.Any(a => a.State == ArrowState.Active && babel.InstalledRoutesVia(a.Interface) > 0);
        var standingIn = _standingIn.Count > 0;
        var paused = standingIn || lastWayOut;
        var pausedBecause = standingIn ? "paused while this host stands in for a peer" : "paused: no other arrow of this host carries a route";
        foreach (var held in Arrows.Where(a => a.Initiated && a.State == ArrowState.Draining && !mine.Contains(a)).ToList())
        {
            await PulseAsync(held, pulse.Next(held.Breathing, held.PulseSince ?? now, now, inUse: true, held: true), now, cancellationToken, "held while its peer hands over or stands in").ConfigureAwait(false);
        }

        var decisions = ArrowDestruction.Decide(statuses, now, view.Policy, _random);
        for (var i = 0; i < mine.Count; i++)
        {
            var (arrow, decision) = (mine[i], decisions[i]);
            if (arrow.State == ArrowState.Active)
            {
                _churn.Drawn(decision);
            }

            var since = arrow.PulseSince ?? now;
            if (arrow.State == ArrowState.Draining)
            {
                _log($"{Node}: draining {arrow.Interface} to {arrow.Peer}{(arrow.Breathing ? " (Babel passing)" : "")}: {statuses[i].RoutesCarried} route(s) still use it -> {decision.Action} ({decision.Reason})");
            }

            switch (decision.Action)
            {
                case ArrowAction.StartDrain:
                    await StartDrainAsync(arrow, now, cancellationToken).ConfigureAwait(false);
                    break;
                case ArrowAction.Destroy when decision.Reason == DecisionReason.Drained && (lastWayOut || !pulse.MayConclude(arrow.Breathing, since, now)):
                case ArrowAction.Keep when arrow.State == ArrowState.Draining:
                    await PulseAsync(arrow, pulse.Next(arrow.Breathing, since, now, statuses[i].InUse, held: paused), now, cancellationToken, paused ? pausedBecause : null).ConfigureAwait(false);
                    break;

                // Exception to the immediate cut of an unused arrow: "unused" is what this host knows,
                // and the far end's part is a status a tick or more old; the far end may have moved
                // routes onto it since, which a cut would black-hole until its probes notice. So the
                // arrow is drained for a moment first (no route moves onto a draining arrow), and
                // still counts as a random destruction, not as a drain.
                case ArrowAction.Destroy when decision.Reason is not (DecisionReason.Drained or DecisionReason.ForcedAfterMaxDrain):
                    arrow.DestroyReason = RemovalReason.Random;
                    await StartDrainAsync(arrow, now, cancellationToken, precaution: true).ConfigureAwait(false);
                    break;
                case ArrowAction.Destroy:
                    await RemoveAsync(arrow, RemovalReasons.AfterDrain(decision.Reason, arrow.DestroyReason), cancellationToken).ConfigureAwait(false);
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
            var planned = view.MembersOf(subMesh).ToList();
            var peers = planned.Where(p => p.Status is not null).ToList();
            var nodes = new List<NodeInfo> { Self(view) };
            nodes.AddRange(peers.Select(Usable));
            var set = new MemberSet(nodes);
            var here = Arrows.Where(a => a.SubMesh == subMesh).ToList();
            var connected = here.Select(a => set.IndexOf(a.Peer)).Where(i => i > 0).Distinct().ToArray();
            var outgoing = here.Count(a => a.Initiated && a.State == ArrowState.Active);
            // A peer that hands over cannot accept an arrow before its next run: left out of the draw like a backed-off one.
            var backedOff = peers.Select((p, i) => _backoff.IsBackedOff(p.Node.Name, now) || HandOver.IsHandingOver(p.Status, now) ? i + 1 : 0).Where(i => i > 0).ToArray();
            foreach (var choice in ArrowSelection.Select(set, 0, connected, outgoing, view.Policy, _random, backedOff, meshSize: planned.Count + 1))
            {
                var peer = peers[choice.Peer - 1];
                var status = peer.Status!;
                if (HostTunnels.PeerIdentity(choice.Technology, status.WireGuardKey, status.OpenVpnFingerprint) is not { } identity || _pool!.Take(m) is not { } slot)
                {
                    continue;
                }

                var spec = new TunnelSpec(slot.Interface, choice.Technology, identity, null, slot.Port, LinkLocal(slot));
                var reason = ChurnCounters.Name(choice.Reason);
                var record = new ArrowRecord(ArrowRecord.NewId(), slot, peer.Node.Name, subMesh, choice.Technology, initiated: true, now) { Reason = reason };
                using var span = _trace.Arrow("create", record)?.SetTag("re6st.create.reason", reason);
                if (await CreateTunnelAsync(spec, slot, cancellationToken).ConfigureAwait(false))
                {
                    await TrackAsync(record, cancellationToken).ConfigureAwait(false);
                    Count("created/" + reason);
                    Metrics.Created(reason, choice.Technology.ToName());
                    _churn.Created(choice.Reason);
                }
                else
                {
                    BackOff(peer.Node.Name, "its tunnel would not come up");
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

    /// <summary>Carries out a step of the drain's rhythm (<see cref="DrainPulse"/>) on this host's end, which drops the arrow's Babel both ways.</summary>
    /// <param name="pausedBecause">Why Babel passes when the drain pauses for a hand-over (null: the drain's own rhythm).</param>
    private async Task PulseAsync(ArrowRecord arrow, DrainStep step, DateTimeOffset now, CancellationToken cancellationToken, string? pausedBecause = null)
    {
        switch (step)
        {
            case DrainStep.Breathe:
                using (_trace.Arrow("drain_breath", arrow))
                {
                    await _drain!.StopAsync(arrow.Interface, cancellationToken).ConfigureAwait(false);
                }

                _log(pausedBecause is null
                    ? $"{Node}: draining {arrow.Interface} to {arrow.Peer}: routes still use it, or Babel was dropped too long to tell; letting Babel through for a moment so babeld keeps them"
                    : $"{Node}: draining {arrow.Interface} to {arrow.Peer}: {pausedBecause}; letting Babel through until the pause ends");
                (arrow.Breathing, arrow.PulseSince) = (true, now);
                Count("drain-breath");
                break;
            case DrainStep.Resume:
                using (_trace.Arrow("drain_resume", arrow))
                {
                    await _drain!.StartAsync(arrow.Interface, cancellationToken).ConfigureAwait(false);
                }

                (arrow.Breathing, arrow.PulseSince) = (false, now);
                Count("drain-resume");
                break;
        }
    }

    /// <param name="precaution">A drain of an arrow destroyed unused: not counted among the drains of arrows in use.</param>
    private async Task StartDrainAsync(ArrowRecord arrow, DateTimeOffset now, CancellationToken cancellationToken, bool precaution = false)
    {
        using var span = _trace.Arrow("drain_start", arrow)?.SetTag("re6st.drain.precaution", precaution);
        await _drain!.StartAsync(arrow.Interface, cancellationToken).ConfigureAwait(false);
        arrow.State = ArrowState.Draining;
        arrow.DrainStartedAt = now;
        (arrow.Breathing, arrow.PulseSince) = (false, now);
        if (!precaution)
        {
            Count("drain-started");
            Metrics.DrainStarted();
        }
    }

    /// <summary>
    /// Exception to the drain: an arrow that stopped answering its probes carries nothing any more,
    /// so it is removed at once, by a tick run now rather than at the next one (babeld drops the
    /// routes over it the moment its interface goes, long before its hellos would time out).
    /// </summary>
    private void OnDead(string interfaceName) => Condemn(interfaceName, RemovalReason.Dead);

    /// <summary>
    /// The far end said goodbye: the arrow goes the same way, at once, and counts as closed by its
    /// peer, while the far end waits a moment before it deletes its own end.
    /// </summary>
    private void OnClosed(string interfaceName) => Condemn(interfaceName, RemovalReason.ClosedByPeer);

    /// <summary>
    /// Marks an arrow for removal and wakes the loop. Its link is not taken down meanwhile: the
    /// link-local address goes with the link, and babeld 1.12, signing with HMAC, then loops on
    /// "Couldn't add HMAC" at full CPU until it notices (seen in the lab: a 7 s outage).
    /// </summary>
    private void Condemn(string interfaceName, RemovalReason reason)
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

        arrow.Condemned = reason;
        _log($"{Node}: {interfaceName} to {arrow.Peer} goes at once ({reason})");
        _wake.Release();
    }

    private async Task RemoveDeadAsync(AgentView view, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var babel = Babel;
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var going = new List<(ArrowRecord Arrow, RemovalReason Reason)>();
        foreach (var arrow in Arrows)
        {
            // Trust no node: a tunnel that carries packets but whose far end never speaks Babel with
            // the mesh's key (a member without the key, a broken babeld) is an arrow in name only.
            // Draining arrows are left out (their Babel is dropped on purpose), and so is the
            // settling time after babeld (re)starts, and a peer that hands over or just came back
            // (its babeld is silent on purpose, then new here, see HandOver).
            var unauthenticated = arrow.Condemned is null && arrow.State == ArrowState.Active && babel.Connected && !HandsOverOrJustDid(view, arrow.Peer, now)
                && now - arrow.Created > _options.AuthenticationGrace && now - _babeldStartedAt > _options.AuthenticationGrace
                && !babel.NeighboursOn(arrow.Interface).Any(n => n.Reach != 0);
            if (arrow.Condemned is null && !unauthenticated)
            {
                continue;
            }

            if (!arrow.Initiated)
            {
                // Not taken again while its initiator still publishes it: that end finds it out too.
                _refused.Add(arrow.Id);
            }

            // Several arrows to one peer dying together are one failure of that peer.
            if (arrow.Condemned == RemovalReason.Dead && failed.Add(arrow.Peer))
            {
                BackOff(arrow.Peer, _prober!.Read(arrow.Interface) is { Received: > 0 } ? "its arrow stopped answering" : "its arrow never came up");
            }

            going.Add((arrow, arrow.Condemned ?? RemovalReason.Unauthenticated));
        }

        // Arrows that die together leave babeld together: their interfaces make way for their
        // tombstones at once (one batch, babeld frozen once) before any is cleaned up. One removal
        // can take seconds (a wireguard-go process gets 2 s to exit), and babeld kept routing over
        // the arrows still waiting their turn: a host whose two peers died at once lost 5 s of
        // pings to a third one in a lab run.
        var tombstoned = going.Where(g => !g.Reason.SaysGoodbye()).Select(g => g.Arrow).ToHashSet();
        await _tombstones!.ReplaceAsync([.. tombstoned.Select(a => (a.Interface, LinkLocal(a.Slot)))], cancellationToken).ConfigureAwait(false);

        foreach (var (arrow, reason) in going)
        {
            await RemoveAsync(arrow, reason, cancellationToken, tombstoned: tombstoned.Contains(arrow)).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes an arrow at once, without draining (what a dead arrow amounts to).</summary>
    public async Task CutAsync(string interfaceName, CancellationToken cancellationToken)
    {
        var arrow = Arrows.FirstOrDefault(a => a.Interface == interfaceName)
            ?? throw new InvalidOperationException($"{Node} has no arrow on {interfaceName}");
        await RemoveAsync(arrow, RemovalReason.Cut, cancellationToken).ConfigureAwait(false);
    }
}
