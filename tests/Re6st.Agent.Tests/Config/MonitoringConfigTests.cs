using System.Text.Json;
using System.Text.Json.Nodes;
using Re6st.Testing;
using Re6st.Testing.Monitoring;

namespace Re6st.Agent.Tests.Config;

/// <summary>
/// The Prometheus alert rules and the Grafana dashboard under config/, against the metrics a real
/// agent exports and against their own rules (promtool checks them in the integration tier).
/// </summary>
public sealed class MonitoringConfigTests
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

    [Theory]
    [InlineData("""60 * sum by (reason) (rate(re6st_a_total{mesh=~"$mesh", reason="forced"}[5m]))""", "re6st_a_total")]
    [InlineData("""histogram_quantile(0.9, sum by (le) (rate(h_bucket[1h]))) / on (node) group_left x_seconds offset 1h""", "h_bucket x_seconds")]
    [InlineData("""count((a or 0 * sum without (s) (b)) == 0) or vector(0) unless c > bool 1e3""", "a b c")]
    [InlineData("""max_over_time(d[30m:1m]) - min(e) by (node) + time() - 0x1f""", "d e")]
    public void MetricNames_LeaveOutFunctionsLabelsKeywordsAndNumbers(string expression, string names) =>
        Assert.Equal(names.Split(' ').Order(StringComparer.Ordinal), PromQl.MetricNames(expression).Order(StringComparer.Ordinal));

    [Fact]
    public async Task EveryMetricTheRulesAndTheDashboardRead_IsExportedByTheAgent()
    {
        var export = await AgentMetricsExport.CollectAsync();
        foreach (var (name, type) in export.Types)
        {
            Assert.True(export.SeriesNames.Contains(type == "histogram" ? name + "_bucket" : name), $"{name} has no series: AgentMetricsExport must call what sets it");
        }

        var dashboard = GrafanaDashboard.Load(Dashboard);
        var queries = AlertRuleFile.Rules(Rules).Select(r => (Where: "rule " + (AlertRuleFile.Text(r, "alert") ?? AlertRuleFile.Text(r, "record")), Expression: AlertRuleFile.Text(r, "expr") ?? ""))
            .Concat(dashboard.PanelQueries.Concat(dashboard.VariableSelectors).Select(q => (q.Where, Expression: GrafanaDashboard.Substitute(q.Expression, VariableValues))))
            .ToList();
        Assert.True(queries.Count > 20, $"only {queries.Count} queries found");

        var missing = new List<string>();
        foreach (var (where, expression) in queries)
        {
            var names = PromQl.MetricNames(expression);
            Assert.True(names.Count > 0, $"{where} reads no metric: {expression}");
            missing.AddRange(names.Where(n => !export.Exports(n)).Select(n => $"{where}: {n}"));
        }

        Assert.True(missing.Count == 0, "metrics the agent does not export:\n" + string.Join('\n', missing) + "\nexported:\n" + string.Join('\n', export.Types.Select(t => $"{t.Key} ({t.Value})")));
    }

    [Fact]
    public void EveryAlert_HasForSeverityAnnotations_AndTestsWhereItFiresAndWhereItDoesNot()
    {
        var alerts = AlertRuleFile.Rules(Rules).Where(r => AlertRuleFile.Text(r, "alert") is not null).ToList();
        Assert.True(alerts.Count >= 6, $"{alerts.Count} alerts");
        var cases = AlertRuleFile.AlertTestCases(RuleTests);
        foreach (var rule in alerts)
        {
            var name = AlertRuleFile.Text(rule, "alert")!;
            Assert.False(string.IsNullOrEmpty(AlertRuleFile.Text(rule, "for")), $"{name} has no for:");
            Assert.Contains(AlertRuleFile.Text(AlertRuleFile.Mapping(rule, "labels") ?? new(), "severity"), new[] { "warning", "critical" });
            var annotations = AlertRuleFile.Mapping(rule, "annotations") ?? new();
            Assert.False(string.IsNullOrWhiteSpace(AlertRuleFile.Text(annotations, "summary")), $"{name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(AlertRuleFile.Text(annotations, "description")), $"{name} has no description");
            Assert.True(cases.Any(c => c.Alert == name && c.Expected > 0), $"no test of {name} expects it to fire");
            Assert.True(cases.Any(c => c.Alert == name && c.Expected == 0), $"no test of {name} expects it to stay silent");
        }
    }

    [Fact]
    public void Dashboard_HasUniquePanelIds_AndEveryPanelADatasourceTargetsAUnitAndAPlace()
    {
        var dashboard = GrafanaDashboard.Load(Dashboard);
        var json = dashboard.Json;
        Assert.True((int?)json["schemaVersion"] >= 36, "schemaVersion " + json["schemaVersion"]);
        Assert.False(string.IsNullOrEmpty((string?)json["uid"]), "no uid");
        Assert.False(string.IsNullOrEmpty((string?)json["title"]), "no title");

        var variables = dashboard.Variables.ToDictionary(v => (string?)v["name"] ?? "", StringComparer.Ordinal);
        Assert.Equal("datasource", (string?)variables["datasource"]["type"]);
        Assert.Equal("prometheus", (string?)variables["datasource"]["query"]);
        foreach (var name in new[] { "mesh", "node" })
        {
            Assert.Equal("query", (string?)variables[name]["type"]);
            Assert.Equal("${datasource}", (string?)variables[name]["datasource"]?["uid"]);
            Assert.Contains(dashboard.VariableSelectors, q => q.Where == "variable " + name);
        }

        Assert.All(dashboard.Rows, r => Assert.True(r["targets"] is null or JsonArray { Count: 0 }, $"row {r["id"]} has targets"));
        var panels = dashboard.Panels;
        Assert.True(panels.Count >= 10, $"{panels.Count} panels");
        var ids = panels.Concat(dashboard.Rows).Select(p => (int?)p["id"]).ToList();
        Assert.All(ids, id => Assert.True(id > 0, "a panel without an id"));
        var repeated = ids.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(repeated.Count == 0, "panel ids used more than once: " + string.Join(", ", repeated));

        var known = dashboard.VariableNames();
        var places = new List<(string Title, int X, int Y, int W, int H)>();
        foreach (var panel in panels)
        {
            var title = (string?)panel["title"];
            Assert.False(string.IsNullOrWhiteSpace(title), $"panel {panel["id"]} has no title");
            Assert.False(string.IsNullOrEmpty((string?)panel["type"]), title + ": no type");
            AssertDatasource(panel["datasource"], title!);
            Assert.False(string.IsNullOrEmpty((string?)panel["fieldConfig"]?["defaults"]?["unit"]), title + ": no unit");

            var grid = panel["gridPos"];
            Assert.True(grid is JsonObject, title + ": no gridPos");
            var (x, y, w, h) = ((int?)grid["x"] ?? -1, (int?)grid["y"] ?? -1, (int?)grid["w"] ?? 0, (int?)grid["h"] ?? 0);
            Assert.True(x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= 24, $"{title}: gridPos {grid.ToJsonString()}");
            places.Add((title!, x, y, w, h));

            var targets = panel["targets"] as JsonArray;
            Assert.True(targets is { Count: > 0 }, title + ": no targets");
            var refIds = targets.Select(t => (string?)t?["refId"]).ToList();
            Assert.True(refIds.Count == refIds.Distinct().Count(), $"{title}: refIds used twice: {string.Join(", ", refIds)}");
            foreach (var target in targets)
            {
                Assert.False(string.IsNullOrEmpty((string?)target?["refId"]), title + ": a target without refId");
                AssertDatasource(target?["datasource"], title!);
                var expr = (string?)target?["expr"] ?? "";
                Assert.False(string.IsNullOrWhiteSpace(expr), $"{title} target {target?["refId"]}: no expr");
                Assert.All(GrafanaDashboard.VariablesIn(expr), v => Assert.True(known.Contains(v), $"{title}: unknown variable ${v}"));
            }
        }

        var overlaps = places.SelectMany((a, i) => places.Skip(i + 1)
            .Where(b => a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H)
            .Select(b => $"'{a.Title}' and '{b.Title}'"));
        Assert.Empty(overlaps);
    }

    private static void AssertDatasource(JsonNode? datasource, string where)
    {
        Assert.True(datasource is JsonObject, where + ": no datasource");
        Assert.Equal("prometheus", (string?)datasource["type"]);
        Assert.Equal("${datasource}", (string?)datasource["uid"]);
    }
}
