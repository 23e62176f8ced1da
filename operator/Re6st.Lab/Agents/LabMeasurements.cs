using Re6st.Agent.Lifecycle;
using Re6st.Lab.Netns;

namespace Re6st.Lab.Agents;

/// <summary>
/// The data-plane measurements the tests assert on and the lab benchmark prints: packets lost when
/// an arrow in use is destroyed gracefully or abruptly, and the time traffic takes to leave a
/// silently black-holed underlay path.
/// </summary>
public static class LabMeasurements
{
    /// <summary>
    /// The policy's way: the initiator drains an arrow that carries a route (pinged across 20 times
    /// a second), and it goes once no route uses it. Returns the figures and the drained arrow's initiator.
    /// </summary>
    public static async Task<(PingFigures Figures, HostAgent Initiator)> GracefulAsync(AgentMesh mesh, TimeSpan drainTimeout)
    {
        var arrow = DirectArrow.Find(mesh);
        var (owner, record) = arrow.Initiator;
        var figures = await PingDuringAsync(arrow, async () =>
        {
            await owner.DrainAsync(record.Interface, CancellationToken.None);
            var deadline = DateTime.UtcNow + drainTimeout;

            // The record, not the name: the interface may already serve a new arrow.
            while (owner.Arrows.Contains(record))
            {
                if (DateTime.UtcNow >= deadline)
                {
                    throw new TimeoutException($"{owner.Node}: {record.Interface} to {record.Peer} still there after {drainTimeout.TotalSeconds} s: {owner.Babel}");
                }

                await Task.Delay(200);
            }
        });
        return (figures, owner);
    }

    /// <summary>
    /// The control case: the same kind of arrow vanishes at the destination's end without a drain,
    /// as when a host dies; the sender keeps using its end until its probes find it dead.
    /// </summary>
    public static Task<PingFigures> AbruptAsync(AgentMesh mesh)
    {
        var arrow = DirectArrow.Find(mesh);
        return PingDuringAsync(arrow, () => arrow.To.CutAsync(arrow.AtDestination.Interface, CancellationToken.None));
    }

    /// <summary>
    /// Silently black-holes the underlay path of an arrow that carries a route (nft drop at the
    /// source, both ways; no link goes down, no error comes back), pings across for 6 s, then lifts
    /// the black hole. The longest outage is the time traffic took to move.
    /// </summary>
    public static async Task<(PingFigures Figures, DirectArrow Path)> RerouteAsync(AgentMesh mesh)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        await WaitProbedAsync(mesh, TimeSpan.FromSeconds(30));
        var path = DirectArrow.Find(mesh);
        var peer = AgentMesh.UnderlayAddress(path.Destination);
        var script = $$"""
            table inet r6blackhole {
              chain input { type filter hook input priority -10; ip6 saddr {{peer}} drop; }
              chain output { type filter hook output priority -10; ip6 daddr {{peer}} drop; }
            }
            """;
        var file = mesh.Lab.PathFor("blackhole.nft");
        await File.WriteAllTextAsync(file, script);
        PingFigures figures;
        await using (var ping = ContinuousPing.Start(path.Source, path.Destination))
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            await mesh.Lab.InAsync(path.Source, "nft", "-f", file);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(6));
                figures = await ping.StopAsync();
            }
            finally
            {
                await mesh.Lab.InAsync(path.Source, "nft", "delete", "table", "inet", "r6blackhole");
            }
        }

        return (figures, path);
    }

    /// <summary>Pings across <paramref name="arrow"/> 2 s before <paramref name="act"/> and 3 s after it.</summary>
    public static async Task<PingFigures> PingDuringAsync(DirectArrow arrow, Func<Task> act)
    {
        ArgumentNullException.ThrowIfNull(arrow);
        ArgumentNullException.ThrowIfNull(act);

        // The figures are the act's: the pair must first answer every ping for 2 s (a route the
        // mesh was still settling when it converged cost a ping before a drain had begun).
        var steady = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            await using var warmUp = ContinuousPing.Start(arrow.Source, arrow.Destination);
            await Task.Delay(TimeSpan.FromSeconds(2));
            if ((await warmUp.StopAsync()).Lost == 0 || DateTime.UtcNow >= steady)
            {
                break;
            }
        }

        await using var ping = ContinuousPing.Start(arrow.Source, arrow.Destination);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await act();
        await Task.Delay(TimeSpan.FromSeconds(3));
        return await ping.StopAsync();
    }

    /// <summary>Every arrow has answered its probes: before that, a dead arrow is only found after the setup grace.</summary>
    public static async Task WaitProbedAsync(AgentMesh mesh, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        var deadline = DateTime.UtcNow + timeout;
        while (mesh.Agents.Any(a => a.Arrows.Any(x => a.Probe(x.Interface) is not { Up: true })))
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException("arrows never answered their probes");
            }

            await Task.Delay(200);
        }
    }
}
