using Re6st.Agent.Lifecycle;
using Re6st.Agent.Tests.Lab;
using Re6st.Core.Policy;
using Xunit.Abstractions;

namespace Re6st.Agent.Tests.Lifecycle;

public sealed class DrainTests(ITestOutputHelper output)
{
    [Fact]
    public async Task GracefulDestruction_LosesNoPacket_WhileAnAbruptCutOfTheSameKindOfArrowLosesSome()
    {
        await using var lab = await NetnsLab.CreateAsync(output);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "10m" };
        await using var mesh = await AgentMesh.StartAsync(lab, 6, policy, seed: 11);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));

        // The policy's way: the initiator drains the arrow, and it goes once no route uses it.
        var drained = DirectArrow.Find(mesh);
        var graceful = await PingDuringAsync(drained, async () =>
        {
            var (owner, arrow) = drained.Initiator;
            await owner.DrainAsync(arrow.Interface, CancellationToken.None);
            await WaitGoneAsync(owner, arrow, TimeSpan.FromSeconds(90));
        });
        var (initiator, _) = drained.Initiator;
        Assert.Equal(1, initiator.Decisions.GetValueOrDefault("destroyed/drained"));
        var scraped = await Scrape.Async(initiator);
        Assert.Equal(1, scraped.Value("re6st_arrows_destroyed_total", ("reason", "drained")));
        Assert.Equal(1, scraped.Value("re6st_drain_duration_seconds_count", ("outcome", "drained")));

        // The control case: the same kind of arrow vanishes at the destination's end without a
        // drain, as when a host dies; the sender keeps using its end until it notices.
        var cut = DirectArrow.Find(mesh);
        var abrupt = await PingDuringAsync(cut, () => cut.To.CutAsync(cut.AtDestination.Interface, CancellationToken.None));

        output.WriteLine($"graceful: {graceful}; abrupt: {abrupt}");
        Assert.True(graceful.Sent > 100, $"only {graceful.Sent} pings sent during the drain");
        Assert.Equal(0, graceful.Lost);
        Assert.True(abrupt.Lost > 0, $"the abrupt cut lost nothing ({abrupt}): the control case shows nothing");
    }

    /// <summary>Pings across the arrow 2 s before <paramref name="act"/> and 3 s after it.</summary>
    private static async Task<PingFigures> PingDuringAsync(DirectArrow arrow, Func<Task> act)
    {
        await using var ping = ContinuousPing.Start(arrow.Source, arrow.Destination);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await act();
        await Task.Delay(TimeSpan.FromSeconds(3));
        return await ping.StopAsync();
    }

    /// <summary>Waits until that arrow is gone (its interface name may already serve a new arrow).</summary>
    private static async Task WaitGoneAsync(HostAgent owner, ArrowRecord arrow, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (owner.Arrows.Contains(arrow))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{owner.Node}: {arrow.Interface} to {arrow.Peer} still there after {timeout.TotalSeconds} s: {owner.Babel}");
            await Task.Delay(200);
        }
    }
}
