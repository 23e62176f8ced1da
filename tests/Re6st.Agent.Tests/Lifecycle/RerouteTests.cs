using Re6st.Agent.Tests.Lab;
using Re6st.Core.Policy;
using Xunit.Abstractions;

namespace Re6st.Agent.Tests.Lifecycle;

public sealed class RerouteTests(ITestOutputHelper output)
{
    [Fact]
    public async Task BlackHoledUnderlayPath_TrafficMovesToOtherArrows_WithinTwoSecondsOrSo()
    {
        await using var lab = await NetnsLab.CreateAsync(output);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "10m" };
        await using var mesh = await AgentMesh.StartAsync(lab, 6, policy, seed: 5);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));
        await WaitProbedAsync(mesh);

        var path = DirectArrow.Find(mesh);
        PingFigures figures;
        await using (var ping = ContinuousPing.Start(path.Source, path.Destination))
        {
            await Task.Delay(TimeSpan.FromSeconds(2));

            // Silently: no link goes down, no error comes back; the underlay just stops carrying
            // this pair's packets (the kernel here has no netem).
            await BlackHoleAsync(lab, path.Source, AgentMesh.UnderlayAddress(path.Destination).ToString());
            await Task.Delay(TimeSpan.FromSeconds(6));
            figures = await ping.StopAsync();
        }

        output.WriteLine($"reroute: {figures}");
        Assert.True(figures.Received > 100, $"the ping never flowed again: {figures}");
        Assert.True(path.From.Decisions.GetValueOrDefault("destroyed/dead") >= 1, "the black-holed arrow was not found dead: " + string.Join(", ", path.From.Decisions));

        // The goal is 2 s (probe 150 ms, dead after 1 s); the bound leaves room for a loaded machine.
        Assert.True(figures.LongestOutage <= TimeSpan.FromSeconds(4), $"traffic took too long to move: {figures}");
    }

    private static async Task BlackHoleAsync(NetnsLab lab, LabHost at, string peerUnderlay)
    {
        var script = $$"""
            table inet r6blackhole {
              chain input { type filter hook input priority -10; ip6 saddr {{peerUnderlay}} drop; }
              chain output { type filter hook output priority -10; ip6 daddr {{peerUnderlay}} drop; }
            }
            """;
        var file = lab.PathFor("blackhole.nft");
        await File.WriteAllTextAsync(file, script);
        await lab.InAsync(at, "nft", "-f", file);
    }

    /// <summary>Every arrow has answered its probes once: before that, a dead arrow is only found after the setup grace.</summary>
    private static async Task WaitProbedAsync(AgentMesh mesh)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (mesh.Agents.Any(a => a.Arrows.Any(x => a.Probe(x.Interface) is not { Up: true })))
        {
            Assert.True(DateTime.UtcNow < deadline, "arrows never answered their probes");
            await Task.Delay(200);
        }
    }
}
