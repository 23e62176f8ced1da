using System.Text.Json;
using System.Text.Json.Nodes;

namespace Re6st.Operator.Health;

/// <summary>Where two JSON documents first differ (numbers compared by value: 1 and 1.0 are the same).</summary>
public static class JsonDifference
{
    /// <returns>Null when the same; else the path of the first difference and what each side holds there.</returns>
    public static string? First(JsonNode? expected, JsonNode? actual, string path)
    {
        switch (expected, actual)
        {
            case (null, null):
                return null;
            case (JsonObject e, JsonObject a):
                foreach (var key in e.Select(p => p.Key).Union(a.Select(p => p.Key)).Order(StringComparer.Ordinal))
                {
                    var inner = (e.ContainsKey(key), a.ContainsKey(key)) switch
                    {
                        (true, false) => $"{path}.{key}: missing",
                        (false, true) => $"{path}.{key}: not expected",
                        _ => First(e[key], a[key], $"{path}.{key}"),
                    };
                    if (inner is not null)
                    {
                        return inner;
                    }
                }

                return null;
            case (JsonArray e, JsonArray a):
                for (var i = 0; i < Math.Max(e.Count, a.Count); i++)
                {
                    var inner = i >= e.Count ? $"{path}[{i}]: not expected" : i >= a.Count ? $"{path}[{i}]: missing" : First(e[i], a[i], $"{path}[{i}]");
                    if (inner is not null)
                    {
                        return inner;
                    }
                }

                return null;
            case (JsonValue e, JsonValue a) when e.GetValueKind() == JsonValueKind.Number && a.GetValueKind() == JsonValueKind.Number:
                return e.GetValue<double>() == a.GetValue<double>() ? null : $"{path}: {a.ToJsonString()} where {e.ToJsonString()} is expected";
            default:
                return JsonNode.DeepEquals(expected, actual) ? null : $"{path}: {actual?.ToJsonString() ?? "null"} where {expected?.ToJsonString() ?? "null"} is expected";
        }
    }
}
