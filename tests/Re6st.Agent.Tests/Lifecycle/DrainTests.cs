using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Re6st.Core.Policy;
using Xunit.Abstractions;

namespace Re6st.Agent.Tests.Lifecycle;

public sealed class DrainTests(ITestOutputHelper output)
{
    [Fact]
    public async Task GracefulDestruction_LosesNoPacket_WhileAnAbruptCutOfTheSameKindOfArrowLosesSome()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "10m" };
        await using var mesh = await AgentMesh.StartAsync(lab, 6, policy, seed: 11);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));

        var (graceful, initiator) = await LabMeasurements.GracefulAsync(mesh, TimeSpan.FromSeconds(90));
        Assert.Equal(1, initiator.Decisions.GetValueOrDefault("destroyed/drained"));
        var scraped = await Scrape.Async(initiator);
        Assert.Equal(1, scraped.Value("re6st_arrows_destroyed_total", ("reason", "drained")));
        Assert.Equal(1, scraped.Value("re6st_drain_duration_seconds_count", ("outcome", "drained")));

        var abrupt = await LabMeasurements.AbruptAsync(mesh);

        output.WriteLine($"graceful: {graceful}; abrupt: {abrupt}");
        Assert.True(graceful.Sent > 100, $"only {graceful.Sent} pings sent during the drain");
        Assert.Equal(0, graceful.Lost);
        Assert.True(abrupt.Lost > 0, $"the abrupt cut lost nothing ({abrupt}): the control case shows nothing");
    }
}
