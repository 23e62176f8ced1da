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

/// <summary>babeld's configuration, its restart for a new plan or key, and what a restarted agent adopts.</summary>
public sealed partial class HostAgent
{
    private string ConfigPath => Path.Combine(_options.StateDirectory, "babeld.conf");

    private string SocketPath => Path.Combine(_options.StateDirectory, "babeld.sock");

    /// <summary>The text of babeld's configuration for this plan (the pool's names, filters, keys).</summary>
    private string ConfigText(AgentView view) => BabelConfigWriter.Write(BabelConfig.ForNode(
        view.Plan,
        Enumerable.Range(0, _memberships.Length).ToDictionary(m => _memberships[m], m => _pool!.NamesOf(m)),
        SocketPath,
        SigningKey(view),
        view.HelloInterval));

    /// <summary>The key babeld signs with: the mesh's signing key once read, else the one the agent started with.</summary>
    private BabelKey SigningKey(AgentView view) => view.Keys?.Signing ?? _options.Key;

    private void WriteConfig(string text, AgentView view)
    {
        BabelConfigFile.WriteText(ConfigPath, text);
        _configText = text;
        _signingKeyId = SigningKey(view).Id;
    }

    /// <param name="reason">agent-start, or new-plan-or-key.</param>
    private void StartBabeld(string reason)
    {
        using var span = _trace.Babeld(reason);
        _babeldStartedAt = _time.GetUtcNow();
        _babeld = new BabeldProcess(new BabeldOptions(ConfigPath) { ControlSocketPath = SocketPath, NetworkNamespace = _shell.Netns }, _time, _log);
        _babeld.Runaway += _ =>
        {
            using var runaway = _trace.Babeld("runaway");
            Count("babeld-runaway");
        };
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
            using var span = _trace.Replan(memberships);
            foreach (var arrow in Arrows)
            {
                await RemoveAsync(arrow, RemovalReason.Replanned, cancellationToken).ConfigureAwait(false);
            }

            _memberships = memberships;
            _pool = new InterfacePool(_options.InterfacePrefix, _memberships.Length, _options.PoolSize, _options.PortBase);
            foreach (var name in _tombstones!.Names)
            {
                _pool.Take(name);
            }
        }

        await _announcements!.ApplyAsync(view.Plan, cancellationToken).ConfigureAwait(false);
        await _pods!.ApplyAsync(view.Plan.Pods, cancellationToken).ConfigureAwait(false);
        var text = ConfigText(view);
        if (text == _configText)
        {
            return;
        }

        _log($"{Node}: new plan or key: babeld restarts with the new configuration");
        WriteConfig(text, view);
        await _babeld!.DisposeAsync().ConfigureAwait(false);
        _earlierBabelds += _babeld.Counts;
        StartBabeld("new-plan-or-key");
        Count("babeld-reconfigured");

        // The new babeld knows no neighbour on any tombstone.
        ReturnToPool(await _tombstones!.RemoveAllAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// After a restart: the tunnels the journal lists and that still run are adopted as they were
    /// (draining ones keep draining); any other arrow interface of this host is removed. A babeld
    /// the previous run left (it crashed, and its babeld lived on) is killed without a retraction:
    /// its routes stay for the new one to replace (<see cref="LeftRoutes"/>), which starts at once,
    /// before the neighbours miss two hellos.
    /// </summary>
    private async Task AdoptAsync(string configPath, CancellationToken cancellationToken)
    {
        var stale = $"babeld -c {configPath}";
        if ((await _shell.SignalAsync("KILL", stale, cancellationToken).ConfigureAwait(false)).ExitCode == 0)
        {
            var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(5);
            while (await _shell.RunsAsync(stale, cancellationToken).ConfigureAwait(false) && _time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
            }

            _log($"{Node}: stopped the babeld a previous run left, without a retraction");
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

            // A drain goes on from a breath (Babel passing: the drain's table starts empty), so this
            // run's babeld meets the neighbour first; its DrainPulse drops Babel again after it, or
            // keeps it passing while the arrow is held for the hand-over.
            var record = new ArrowRecord(entry.Id, slot, entry.Peer, entry.SubMesh, entry.Technology, entry.Initiated, entry.Created)
            {
                State = entry.State,
                DrainStartedAt = entry.DrainStartedAt,
                Breathing = entry.State == ArrowState.Draining,
                PulseSince = now,
            };

            using var span = _trace.Arrow("adopt", record);
            await TrackAsync(record, cancellationToken).ConfigureAwait(false);
            Count("adopted");
            Metrics.Adopted(record.Technology.ToName());
            _log($"{Node}: adopted {record.Interface} to {record.Peer} ({record.Technology}, {(record.Initiated ? "initiated" : "accepted")})");
        }

        var adopted = Arrows.Select(a => a.Interface).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, technology) in live.Where(l => !adopted.Contains(l.Key)))
        {
            _log($"{Node}: removing {name}, left by a previous run and not in its journal");
            await _tunnels.DeleteAsync(name, technology, cancellationToken).ConfigureAwait(false);
        }
    }
}
