using Re6st.Agent.Lifecycle;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Re6st.Testing;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

/// <summary>
/// A drain meets a hand-over (DrainPulse's exception): the arrow is held while its peer hands over,
/// and its drain pauses with Babel passing instead of staying in whatever drop it was in. Real
/// agents in network namespaces, real babeld and WireGuard; the drain's drop is read from the
/// kernel's nft set.
/// </summary>
public sealed class HeldDrainTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AnArrowDrainingWhenItsPeerHandsOver_LetsBabelThrough_AndIsKeptUntilTheHoldEnds()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 2, SmallMeshSize = 0, RefreshPeriod = "10m" };
        await using var mesh = await AgentMesh.StartAsync(lab, 3, policy, seed: 5);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));

        var (owner, arrow) = mesh.Agents.SelectMany(a => a.Arrows.Where(r => r.Initiated).Select(r => (Agent: a, Arrow: r))).First();
        var host = mesh.Host(owner.Node);
        output.WriteLine($"{owner.Node} drains {arrow.Interface} to {arrow.Peer}, whose agent then hands its host over");

        // The drain drops the arrow's Babel at once; the peer's hand-over follows before the drain
        // can conclude (its settle time is 4 s here), as when a rolling upgrade meets churn.
        await owner.DrainAsync(arrow.Interface, CancellationToken.None);
        Assert.Contains(arrow.Interface, await DrainingAsync(lab, host));
        var handOver = mesh.HandOverAsync(arrow.Peer, TimeSpan.FromSeconds(10));

        // Within a few ticks the arrow is held: Babel passes on it, and stays passing (the drop, not
        // paused, lasted the whole hold: 2 minutes at most).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await DrainingAsync(lab, host)).Contains(arrow.Interface, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{owner.Node} still drops Babel on {arrow.Interface} 10 s after {arrow.Peer} began to hand over");
            await Task.Delay(250);
        }

        await handOver;
        for (var until = DateTime.UtcNow + TimeSpan.FromSeconds(12); DateTime.UtcNow < until; await Task.Delay(500))
        {
            Assert.DoesNotContain(arrow.Interface, await DrainingAsync(lab, host));
            Assert.Contains(arrow, owner.Arrows);
            Assert.Equal(ArrowState.Draining, arrow.State);
        }
    }

    /// <summary>The interfaces whose Babel the host's drain drops now (BabelDrain's nft set).</summary>
    private static async Task<string> DrainingAsync(NetnsLab lab, LabHost host) =>
        (await lab.InAsync(host, "nft", "list", "set", "inet", "re6st", "draining")).Output;
}
