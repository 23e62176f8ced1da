using System.Text.Json;
using System.Text.Json.Nodes;
using Re6st.Testing;
using Re6st.Testing.Monitoring;
using Xunit.Abstractions;

namespace Re6st.Integration.Tests.Monitoring;

/// <summary>The Prometheus alert rules and the Grafana dashboard's queries under config/, checked by promtool. No root needed.</summary>
public sealed class PromtoolTests(ITestOutputHelper output)
{
    private static readonly string Rules = Repository.PathOf("config", "prometheus", "rules.yml");
    private static readonly string RuleTests = Repository.PathOf("config", "prometheus", "rules.test.yml");
    private static readonly string Dashboard = Repository.PathOf("config", "grafana", "re6st-arrow-churn.json");

    /// <summary>What the dashboard's variables stand for when its queries are checked.</summary>
    private static readonly Dictionary<string, string> VariableValues = new(StringComparer.Ordinal)
    {
        ["mesh"] = "demo",
        ["node"] = "node-a",
    };

    [Fact]
    public async Task AlertRules_PassPromtoolCheckRules_AndTheirUnitTests()
    {
        if (!Promtool.Available(output))
        {
            return;
        }

        await Promtool.AssertSucceedsAsync("check", "rules", Rules);
        await Promtool.AssertSucceedsAsync("test", "rules", RuleTests);
    }

    [Fact]
    public async Task EveryDashboardQuery_ParsesAsPromQl()
    {
        var dashboard = GrafanaDashboard.Load(Dashboard);
        var queries = dashboard.PanelQueries.Concat(dashboard.VariableSelectors).ToList();
        Assert.NotEmpty(queries);
        Assert.All(queries, q => Assert.False(string.IsNullOrWhiteSpace(q.Expression), q.Where + " has no expression"));
        if (!Promtool.Available(output))
        {
            return;
        }

        // A throwaway rule file with one recording rule per query: promtool parses each expression.
        var rules = new JsonArray([.. queries.Select(q => new JsonObject
        {
            ["record"] = "dashboard:" + q.RuleName,
            ["expr"] = GrafanaDashboard.Substitute(q.Expression, VariableValues),
        })]);
        var file = new JsonObject { ["groups"] = new JsonArray(new JsonObject { ["name"] = "dashboard", ["rules"] = rules }) };
        var path = Path.Combine(Path.GetTempPath(), $"re6st-dashboard-{Guid.NewGuid():N}.rules.yml");
        try
        {
            await File.WriteAllTextAsync(path, file.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            await Promtool.AssertSucceedsAsync("check", "rules", path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
