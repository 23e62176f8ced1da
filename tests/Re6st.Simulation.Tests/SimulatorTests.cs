using System.Text.Json;
using Re6st.Cli;

namespace Re6st.Simulation.Tests;

public sealed class SimulatorTests
{
    private static SimReport Run(int nodes, int order, ulong seed = 1) => Simulator.Run(
        new SimOptions { Nodes = nodes, Order = order, Arrows = 8, Seed = seed, Pairs = 300, ScenarioPairs = 150, ChurnPeriods = 3 },
        ProgressLog.Quiet);

    [Theory]
    [InlineData(1, 1500)]
    [InlineData(2, 3000)]
    [InlineData(3, 6000)]
    public void Report_RoutingTables_FollowTheTheory_AndAreVerifiedByPropagation(int order, int nodes)
    {
        var r = Run(nodes, order);
        Assert.Equal("propagated", r.Routes.Method);
        Assert.Equal(0, r.Routes.ModelMismatches);
        Assert.Empty(r.Routes.Leaks);
        Assert.Equal(0, r.Routes.SplitSubMeshes);
        Assert.InRange(r.Routes.Mean, 0.8 * r.Routes.Theory, 1.2 * r.Routes.Theory);
        if (order == 1)
        {
            Assert.Equal(nodes, r.Routes.Max);
            Assert.Equal(1.0, r.Stretch.Median);
        }
        else
        {
            Assert.True(r.Routes.BridgesOnly.Mean > r.Routes.MembersOnly.Mean);
            Assert.True(r.Stretch.Median >= 1.0);
        }

        Assert.Equal(0, r.Stretch.Unreachable);
    }

    [Fact]
    public void Report_SameSeed_SameFigures()
    {
        var a = Run(2000, 2, seed: 4);
        var b = Run(2000, 2, seed: 4);
        Assert.Equal(JsonSerializer.Serialize(a with { ElapsedSeconds = 0, PeakMemoryMB = 0 }), JsonSerializer.Serialize(b with { ElapsedSeconds = 0, PeakMemoryMB = 0 }));
        var c = Run(2000, 2, seed: 5);
        Assert.NotEqual(a.Stretch.Mean, c.Stretch.Mean);
    }

    [Fact]
    public void Churn_DestroysThePolicyShare_AndKeepsPairsConnected()
    {
        var r = Run(3000, 2);

        // Default policy: 30 % destroyed, most-used 20 % at half the probability: 0.3·(1 - 0.2·0.5) = 0.27.
        Assert.InRange(r.Churn.DestroyedShare, 0.25, 0.29);
        Assert.True(r.Churn.MostUsedSpared > 0);
        Assert.Equal(r.Churn.Destroyed, r.Churn.Drained + r.Churn.DestroyedAtOnce + r.Churn.ForcedAfterMaxDrain);
        Assert.True(r.Churn.ConnectedMin >= 0.99, $"pairs connected after churn: {r.Churn.ConnectedMin}");
    }

    [Fact]
    public void Crisis_RandomMeshSurvivesLosingARegionsBestConnectedHosts_GroupedMeshDoesNot()
    {
        var r = Run(4000, 1);
        var lost = r.Crisis.Cases.Single(c => c.Name == "bestConnectedLost");
        Assert.True(lost.Random > 0.99, $"random mesh: {lost.Random}");
        Assert.True(lost.Grouped < 0.9, $"grouped mesh: {lost.Grouped}");
        Assert.Equal(r.Crisis.Cases.Min(c => c.Random), r.Crisis.Random);
    }

    [Fact]
    public void Json_HasTheStableFieldNames()
    {
        var json = JsonSerializer.Serialize(Run(500, 2), SimCommand.Json);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        foreach (var path in new[] { "nodes", "order", "arrows", "routes.mean", "routes.p99", "routes.max", "routes.theory", "stretch.median", "crisis.random", "crisis.grouped", "distance.mean", "elapsedSeconds" })
        {
            var e = root;
            foreach (var part in path.Split('.'))
            {
                Assert.True(e.TryGetProperty(part, out e), $"missing {path}");
            }

            Assert.Equal(JsonValueKind.Number, e.ValueKind);
        }
    }

    [Fact]
    public void Plots_AreSvgFiles()
    {
        var dir = Path.Combine(Path.GetTempPath(), "re6st-plots-" + Guid.NewGuid().ToString("N"));
        try
        {
            var report = Run(400, 2);
            var files = Plots.Write(dir, report, ProgressLog.Quiet);
            Assert.Equal(3, files.Count);
            foreach (var f in files)
            {
                var text = File.ReadAllText(f);
                Assert.Contains("<svg", text, StringComparison.Ordinal);
                Assert.Contains("</svg>", text, StringComparison.Ordinal);
            }

            Assert.Contains("order 3", File.ReadAllText(Path.Combine(dir, "routes-vs-nodes.svg")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
