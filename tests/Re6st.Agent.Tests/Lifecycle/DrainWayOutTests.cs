using Re6st.Agent.Lifecycle;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Agent.Tests.Lifecycle;

/// <summary>
/// A drain needs a way out for its routes. In a mesh joined all to all, no member is left to
/// replace a drained arrow, so its replacement goes to the same peer over a new arrow (ArrowSelection's
/// make-before-break exception); before it, once every arrow around a host drained, none of their
/// routes had a way out and every drain lasted until maxDrain (60 minutes), dropping Babel in its
/// rhythm. Real agents in network namespaces, real babeld and WireGuard.
/// </summary>
public sealed class DrainWayOutTests(ITestOutputHelper output)
{
    [Fact(Timeout = 240_000)]
    public async Task EveryArrowOfAFullMeshDrainingAtOnce_EachIsReplacedAndEnds_WhilePingsFlow()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        // 4 hosts with 3 arrows each and no small-mesh exception: the random draw joins every pair.
        // maxDrain stays at its default (60 minutes), so only a drain's own end can end it here.
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "10m" };
        await using var mesh = await AgentMesh.StartAsync(lab, 4, policy, seed: 23);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));
        foreach (var agent in mesh.Agents)
        {
            Assert.Equal(3, agent.Arrows.Select(a => a.Peer).Distinct().Count());
        }

        var hosts = mesh.Hosts;
        var pings = hosts.SelectMany(f => hosts.Where(t => t != f).Select(t => ContinuousPing.Start(f, t, TimeSpan.FromMilliseconds(100)))).ToList();
        PingFigures[] figures;
        List<(HostAgent Agent, ArrowRecord Arrow)> drained;
        List<string> left;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2));

            // Every arrow of the mesh drains at once, as churn left it in a real-node run.
            drained = [.. mesh.Agents.SelectMany(a => a.Arrows.Where(r => r.Initiated).Select(r => (Agent: a, Arrow: r)))];
            output.WriteLine($"draining all {drained.Count} arrows: {string.Join(", ", drained.Select(d => $"{d.Agent.Node}->{d.Arrow.Peer} ({d.Arrow.Interface})"))}");
            foreach (var (agent, arrow) in drained)
            {
                await agent.DrainAsync(arrow.Interface, CancellationToken.None);
            }

            // Each drained arrow goes once unused, a new arrow between the same two hosts taking its
            // routes. A bound, not a goal: 33 s here; drains took 7 to 74 s in lab churn; without
            // the exception none ends.
            var started = DateTime.UtcNow;
            while ((left = [.. drained.Where(d => d.Agent.Arrows.Contains(d.Arrow)).Select(d => $"{d.Agent.Node}->{d.Arrow.Peer}")]).Count > 0 && DateTime.UtcNow - started < TimeSpan.FromSeconds(150))
            {
                await Task.Delay(500);
            }

            output.WriteLine($"drains left after {(DateTime.UtcNow - started).TotalSeconds:F0} s: {left.Count}");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        finally
        {
            figures = await ContinuousPing.StopAllAsync(pings);
        }

        foreach (var agent in mesh.Agents)
        {
            output.WriteLine(agent.DescribeDecisions());
        }

        var (sent, lost) = (figures.Sum(f => f.Sent), figures.Sum(f => f.Lost));
        output.WriteLine($"pings across the drains: {lost} lost of {sent}; longest outage {figures.Max(f => f.LongestOutage).TotalSeconds:F1} s");
        Assert.True(left.Count == 0, $"{left.Count} of {drained.Count} drains had not ended after 150 s: {string.Join(", ", left)}");
        Assert.Equal(drained.Count, mesh.Agents.Sum(a => a.Decisions.GetValueOrDefault("destroyed/drained")));
        Assert.Equal(0, mesh.Agents.Sum(a => a.Decisions.GetValueOrDefault("destroyed/forced-after-max-drain")));

        // One new arrow at least per pair of hosts, opened by either end (the first to draw it
        // joins the pair by an arrow that does not drain, so the other end draws none).
        var pairs = drained.Select(d => string.Join("-", new[] { d.Agent.Node, d.Arrow.Peer }.Order(StringComparer.Ordinal))).Distinct().Count();
        Assert.InRange(mesh.Agents.Sum(a => a.Decisions.GetValueOrDefault("created/make-before-break")), pairs, drained.Count);
        foreach (var agent in mesh.Agents)
        {
            Assert.DoesNotContain(agent.Arrows, r => r.State == ArrowState.Draining);
            Assert.Equal(3, agent.Arrows.Select(a => a.Peer).Distinct().Count());
        }

        // Drained, not cut: routes left each arrow through Babel before it went, onto the new one.
        // Runs alone lost 1 or 2 of about 4,200 (longest outage 0.1 s), and 10 of 4,660 beside
        // another lab; without the exception the drains ended only when Babel lost routes under
        // them: 48 of 10,914 (0.44 %, 1.2 s) in 89 s. The bound is for a loaded machine (CI runs
        // labs side by side); what tells the two apart is the replacements asserted above.
        Assert.True(sent > 2000, $"{sent} pings");
        Assert.True(lost <= sent / 100, $"the drains lost more than 1 % of the pings: {lost} of {sent}");
        Assert.All(figures, f => Assert.True(f.LongestOutage <= TimeSpan.FromSeconds(3) && f.FlowingAtEnd, f.ToString()));
    }
}
