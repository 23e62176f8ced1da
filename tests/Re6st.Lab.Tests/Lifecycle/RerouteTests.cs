using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

public sealed class RerouteTests(ITestOutputHelper output)
{
    [Fact]
    public async Task BlackHoledUnderlayPath_TrafficMovesToOtherArrows_WithinTwoSecondsOrSo()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "10m" };
        await using var mesh = await AgentMesh.StartAsync(lab, 6, policy, seed: 5);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));

        var (figures, path) = await LabMeasurements.RerouteAsync(mesh);

        output.WriteLine($"reroute: {figures}");
        Assert.True(figures.FlowingAtEnd, $"the ping does not flow again: {figures}");
        Assert.True(path.From.Decisions.GetValueOrDefault("destroyed/dead") >= 1, "the black-holed arrow was not found dead: " + string.Join(", ", path.From.Decisions));

        // The goal is 2 s (probe 150 ms, dead after 1 s); the bound leaves room for a loaded machine.
        Assert.True(figures.LongestOutage <= TimeSpan.FromSeconds(4), $"traffic took too long to move: {figures}");
    }
}
