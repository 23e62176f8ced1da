using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Re6st.Testing.Monitoring;

/// <summary>A Grafana dashboard's JSON model, read for what a test checks: panels, queries, variables.</summary>
public sealed partial class GrafanaDashboard
{
    /// <summary>Grafana's own variables, as a query would see them on a 6-hour dashboard.</summary>
    private static readonly Dictionary<string, string> GlobalVariables = new(StringComparer.Ordinal)
    {
        ["__rate_interval"] = "5m",
        ["__interval"] = "1m",
        ["__range"] = "6h",
        ["__interval_ms"] = "60000",
        ["__range_s"] = "21600",
        ["__range_ms"] = "21600000",
    };

    private GrafanaDashboard(JsonObject json)
    {
        Json = json;
        var top = json["panels"]?.AsArray().Select(p => p!.AsObject()).ToList() ?? [];
        Rows = [.. top.Where(IsRow)];
        Panels = [.. top.SelectMany(p => IsRow(p) ? p["panels"]?.AsArray().Select(c => c!.AsObject()) ?? [] : [p])];
        Variables = json["templating"]?["list"]?.AsArray().Select(v => v!.AsObject()).ToList() ?? [];
    }

    public JsonObject Json { get; }

    /// <summary>Every panel that shows data, the panels of rows included (rows themselves are in <see cref="Rows"/>).</summary>
    public IReadOnlyList<JsonObject> Panels { get; }

    public IReadOnlyList<JsonObject> Rows { get; }

    public IReadOnlyList<JsonObject> Variables { get; }

    /// <summary>Every PromQL expression of the panels' targets, named after where it stands.</summary>
    public IEnumerable<Query> PanelQueries =>
        Panels.SelectMany(p => (p["targets"]?.AsArray() ?? []).Select(t => new Query(
            $"panel {p["id"]} '{p["title"]}' target {t?["refId"]}",
            $"panel_{p["id"]}_{t?["refId"]}",
            t?["expr"]?.GetValue<string>() ?? "")));

    /// <summary>The series selectors of the query variables' label_values(selector, label) (none for label_values(label)).</summary>
    public IEnumerable<Query> VariableSelectors =>
        Variables.Where(v => (string?)v["type"] == "query")
            .Select(v => (Name: (string?)v["name"], Text: v["query"] is JsonObject q ? (string?)q["query"] : (string?)v["query"]))
            .Select(v => (v.Name, Match: LabelValues().Match(v.Text ?? "")))
            .Where(v => v.Match.Success && v.Match.Groups["selector"].Success)
            .Select(v => new Query($"variable {v.Name}", $"variable_{v.Name}", v.Match.Groups["selector"].Value));

    public static GrafanaDashboard Load(string path) =>
        new(JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException(path + " is not a JSON object"));

    /// <summary>The variables' names, Grafana's own included.</summary>
    public IReadOnlySet<string> VariableNames() =>
        Variables.Select(v => (string?)v["name"] ?? "").Concat(GlobalVariables.Keys).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// <paramref name="expression"/> as Prometheus would receive it, with the dashboard's variables
    /// set to <paramref name="values"/> and Grafana's own to a 6-hour view. An unknown variable throws.
    /// </summary>
    public static string Substitute(string expression, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Variable().Replace(expression, m =>
        {
            var name = new[] { m.Groups[1], m.Groups[2], m.Groups[3] }.First(g => g.Success).Value;
            return values.TryGetValue(name, out var value) || GlobalVariables.TryGetValue(name, out value)
                ? value
                : throw new KeyNotFoundException($"variable '{name}' has no value in '{expression}'");
        });
    }

    /// <summary>The names of the variables <paramref name="expression"/> uses.</summary>
    public static IEnumerable<string> VariablesIn(string expression) =>
        Variable().Matches(expression).Select(m => new[] { m.Groups[1], m.Groups[2], m.Groups[3] }.First(g => g.Success).Value);

    private static bool IsRow(JsonObject panel) => (string?)panel["type"] == "row";

    // ${name}, ${name:format}, $name, [[name]]
    [GeneratedRegex(@"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")]
    private static partial Regex Variable();

    [GeneratedRegex(@"^\s*label_values\(\s*(?:(?<selector>.+?)\s*,\s*)?(?<label>\w+)\s*\)\s*$")]
    private static partial Regex LabelValues();

    /// <summary>A PromQL expression of the dashboard: where it stands, a name for it as a recording rule, its text.</summary>
    public sealed record Query(string Where, string RuleName, string Expression);
}
