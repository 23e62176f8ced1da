using System.Text.RegularExpressions;
using Re6st.Core.Validation;

namespace Re6st.Core.Policy;

/// <summary>A checked label selector with Kubernetes semantics (all requirements must hold).</summary>
public sealed partial class LabelSelector
{
    private readonly LabelRequirement[] _requirements;

    private LabelSelector(LabelRequirement[] requirements) => _requirements = requirements;

    public IReadOnlyList<LabelRequirement> Requirements => _requirements;

    public bool IsEmpty => _requirements.Length == 0;

    public IEnumerable<string> Keys => _requirements.Select(r => r.Key).Distinct(StringComparer.Ordinal);

    public static LabelSelector MatchLabels(params (string Key, string Value)[] labels) =>
        new([.. labels.Select(l => new LabelRequirement(l.Key, LabelOperator.In, [l.Value]))]);

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        foreach (var r in _requirements)
        {
            var present = labels.TryGetValue(r.Key, out var value);
            var ok = r.Operator switch
            {
                LabelOperator.In => present && r.Values.Contains(value!, StringComparer.Ordinal),
                LabelOperator.NotIn => !present || !r.Values.Contains(value!, StringComparer.Ordinal),
                LabelOperator.Exists => present,
                LabelOperator.DoesNotExist => !present,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString() => string.Join(",", _requirements.Select(r => r.ToString()));

    /// <summary>Checks a declared selector; every problem names its field under <paramref name="path"/>.</summary>
    public static Validated<LabelSelector> Validate(LabelSelectorSpec spec, string path)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var issues = new IssueCollector();
        return issues.Result(Check(spec, path, issues));
    }

    internal static LabelSelector Check(LabelSelectorSpec spec, string path, IssueCollector issues)
    {
        var requirements = new List<LabelRequirement>();
        foreach (var (key, value) in (spec.MatchLabels ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            CheckKey($"{path}.matchLabels", key, issues);
            if (!IsValidValue(value))
            {
                issues.Error($"{path}.matchLabels[{key}]", $"'{value}' is not a valid label value (at most 63 characters: letters, digits, '-', '_', '.')");
            }

            requirements.Add(new LabelRequirement(key, LabelOperator.In, [value]));
        }

        var expressions = spec.MatchExpressions ?? [];
        for (var i = 0; i < expressions.Count; i++)
        {
            var e = expressions[i];
            var p = $"{path}.matchExpressions[{i}]";
            if (string.IsNullOrEmpty(e.Key))
            {
                issues.Error($"{p}.key", "is required");
            }
            else
            {
                CheckKey($"{p}.key", e.Key, issues);
            }

            var values = e.Values ?? [];
            LabelOperator? op = e.Operator switch
            {
                "In" => LabelOperator.In,
                "NotIn" => LabelOperator.NotIn,
                "Exists" => LabelOperator.Exists,
                "DoesNotExist" => LabelOperator.DoesNotExist,
                _ => null,
            };
            if (op is null)
            {
                issues.Error($"{p}.operator", $"'{e.Operator}' is not one of In, NotIn, Exists, DoesNotExist");
            }
            else if (op is LabelOperator.In or LabelOperator.NotIn && values.Count == 0)
            {
                issues.Error($"{p}.values", $"must not be empty for operator {e.Operator}");
            }
            else if (op is LabelOperator.Exists or LabelOperator.DoesNotExist && values.Count != 0)
            {
                issues.Error($"{p}.values", $"must be empty for operator {e.Operator}");
            }

            if (op is not null && !string.IsNullOrEmpty(e.Key))
            {
                requirements.Add(new LabelRequirement(e.Key, op.Value, [.. values]));
            }
        }

        return new LabelSelector([.. requirements]);
    }

    private static void CheckKey(string path, string key, IssueCollector issues)
    {
        var slash = key.LastIndexOf('/');
        var name = slash < 0 ? key : key[(slash + 1)..];
        var prefix = slash < 0 ? null : key[..slash];
        if (name.Length is 0 or > 63 || !NamePattern().IsMatch(name) || (prefix is not null && (prefix.Length > 253 || !DnsPattern().IsMatch(prefix))))
        {
            issues.Error(path, $"'{key}' is not a valid label key (optional DNS prefix and '/', then at most 63 characters: letters, digits, '-', '_', '.')");
        }
    }

    private static bool IsValidValue(string value) => value.Length == 0 || (value.Length <= 63 && NamePattern().IsMatch(value));

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsPattern();
}

public enum LabelOperator
{
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

public sealed record LabelRequirement(string Key, LabelOperator Operator, IReadOnlyList<string> Values)
{
    public override string ToString() => Operator switch
    {
        LabelOperator.Exists => Key,
        LabelOperator.DoesNotExist => "!" + Key,
        LabelOperator.In when Values.Count == 1 => $"{Key}={Values[0]}",
        _ => $"{Key} {Operator.ToString().ToLowerInvariant()} ({string.Join(",", Values)})",
    };
}
