using YamlDotNet.RepresentationModel;

namespace Re6st.Testing.Monitoring;

/// <summary>A Prometheus rule file (groups of alerting and recording rules) and its promtool unit tests, as YAML.</summary>
public static class AlertRuleFile
{
    /// <summary>Every rule of the file, as its YAML mapping (alert or record, expr, for, labels, annotations).</summary>
    public static IReadOnlyList<YamlMappingNode> Rules(string path) =>
        [.. Sequence(Load(path), "groups").SelectMany(g => Sequence(g, "rules"))];

    /// <summary>The alert_rule_test cases of a promtool test file: the alert, and how many alerts each expects.</summary>
    public static IReadOnlyList<(string Alert, int Expected)> AlertTestCases(string path) =>
        [.. Sequence(Load(path), "tests").SelectMany(t => Sequence(t, "alert_rule_test"))
            .Select(c => (Text(c, "alertname") ?? "", Sequence(c, "exp_alerts").Count()))];

    public static string? Text(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;

    public static YamlMappingNode? Mapping(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value as YamlMappingNode : null;

    private static IEnumerable<YamlMappingNode> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence
            ? sequence.OfType<YamlMappingNode>()
            : [];

    private static YamlMappingNode Load(string path)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }

        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }
}
