using System.Text.RegularExpressions;

namespace Re6st.Testing.Monitoring;

/// <summary>Just enough of PromQL's lexical structure to tell the metric names an expression reads.</summary>
public static partial class PromQl
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "inf", "nan", "atan2",
    };

    /// <summary>
    /// The metric names <paramref name="expression"/> selects: what remains once strings, label
    /// matchers, ranges, grouping label lists, function names, keywords and numbers are left out.
    /// </summary>
    public static IReadOnlySet<string> MetricNames(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var text = StringLiteral().Replace(expression, "\"\"");
        text = LabelMatchers().Replace(text, " ");
        text = Range().Replace(text, " ");
        text = GroupingLabels().Replace(text, " ");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Identifier().Matches(text))
        {
            var called = text.AsSpan(m.Index + m.Length).TrimStart().StartsWith("(");
            if (!called && !Keywords.Contains(m.Value))
            {
                names.Add(m.Value);
            }
        }

        return names;
    }

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""|'(?:[^'\\]|\\.)*'|`[^`]*`")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex Range();

    // Removed whole, so that an aggregation written "sum by (x) (...)" reads as a call.
    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")]
    private static partial Regex GroupingLabels();

    // Not preceded by a digit, a letter or a dot: 5m, 1e3 and 0x1f are numbers and durations.
    [GeneratedRegex(@"(?<![\w.:])[a-zA-Z_:][\w:]*")]
    private static partial Regex Identifier();
}
