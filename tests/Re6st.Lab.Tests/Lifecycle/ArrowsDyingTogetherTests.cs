using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

/// <summary>
/// Several arrows of one host dying within the same second (two of its peers die at once), the
/// sequence after which a host's babeld looped on HMAC and the host fell off the mesh for 15 s.
/// </summary>
public sealed class ArrowsDyingTogetherTests(ITestOutputHelper output)
{
    [Fact(Timeout = 240_000)]
    public async Task TwoPeersDyingAtOnce_TheHostKeepsRouting_BabeldStaysQuiet_AndTheDeadLeaveItsDraw()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "10m" };
        await using var mesh = await AgentMesh.StartAsync(lab, 7, policy, seed: 19);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));

        // The host with arrows to the most distinct peers; two of those peers die together.
        var host = mesh.Agents.OrderByDescending(a => a.Arrows.Select(x => x.Peer).Distinct().Count()).ThenBy(a => a.Node, StringComparer.Ordinal).First();
        string[] dead = [.. host.Arrows.Select(a => a.Peer).Distinct().Order(StringComparer.Ordinal).Take(2)];
        Assert.Equal(2, dead.Length);
        var arrowsToDead = host.Arrows.Count(a => dead.Contains(a.Peer));
        output.WriteLine($"{host.Node} loses {arrowsToDead} arrows: its peers {string.Join(" and ", dead)} die");
        var survivors = mesh.Hosts.Where(h => !dead.Contains(h.Name)).ToList();
        var watched = mesh.Host(host.Node);
        var partner = survivors.First(h => h != watched);
        await using var ping = ContinuousPing.Start(watched, partner);
        await Task.Delay(TimeSpan.FromSeconds(1));

        // A tombstone goes as soon as babeld has no neighbour on it: seconds after it was made for an
        // arrow babeld knew (babeld drops the neighbours of a device that changed), within the step for
        // one it never knew. Sampled only after the last dead arrow had gone, on a loaded machine none
        // was left once (a fresh-clone run), so the tombstones are sampled from the deaths on.
        string[] deadInterfaces = [.. host.Arrows.Where(a => dead.Contains(a.Peer)).Select(a => a.Interface)];
        var tombstoned = new HashSet<string>(StringComparer.Ordinal);
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                lock (tombstoned)
                {
                    tombstoned.UnionWith(host.Tombstones);
                }

                await Task.Delay(20, CancellationToken.None);
            }
        });

        await mesh.KillHostsAsync(dead);

        // Its arrows to the dead go within a second or two, as dead, each replaced by a tombstone.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (host.Arrows.Any(a => dead.Contains(a.Peer)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await sampling.CancelAsync();
        await sampler;
        Assert.DoesNotContain(host.Arrows, a => dead.Contains(a.Peer));
        Assert.True(host.Decisions.GetValueOrDefault("destroyed/dead") >= arrowsToDead, string.Join(", ", host.Decisions));
        Assert.True(deadInterfaces.Any(tombstoned.Contains), $"no tombstone seen for the dead arrows {string.Join(", ", deadInterfaces)} (seen: {string.Join(", ", tombstoned)})");
        Assert.Equal(dead, host.BackedOff.Intersect(dead).Order(StringComparer.Ordinal));

        // The survivors route among themselves; no babeld looped.
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(30), survivors);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var figures = await ping.StopAsync();
        output.WriteLine($"{watched.Name} -> {partner.Name} across the deaths: {figures}");
        // CAVEAT: about 1 s on a quiet machine (the probes' verdict, then Babel); fresh-clone runs,
        // with other labs in parallel on 2 cores, measured 2.05 and 2.55 s, and 4.95 s once while
        // dead arrows were still cleaned up one after the other before the next made way for its
        // tombstone (0.25 s since). The bound is 3 s: the failure this test was written for cut
        // the host off for 15 s.
        Assert.True(figures.LongestOutage <= TimeSpan.FromSeconds(3) && figures.FlowingAtEnd, figures.ToString());
        Assert.All(mesh.Agents, a => Assert.Equal(0, a.BabeldRunaways));
        Assert.Empty(await mesh.PingAsync(survivors.SelectMany(f => survivors.Where(t => t != f).Select(t => (f, t)))));

        // While they are backed off (30 s), the host opens no arrow to the dead, though their
        // statuses are still published (their membership did not go); the tombstones go once
        // babeld has forgotten the neighbours.
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (host.Tombstones.Count > 0 && DateTime.UtcNow < deadline)
        {
            Assert.DoesNotContain(host.Arrows, x => dead.Contains(x.Peer));
            await Task.Delay(500);
        }

        Assert.Empty(host.Tombstones);
        Assert.All(mesh.Agents, a => Assert.Equal(0, a.BabeldRunaways));
    }
}
