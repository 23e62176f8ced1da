using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Re6st.Operator.Lint;

/// <summary>
/// The part of OpenAPI v3 validation the re6st CRDs use (type, required, properties, items,
/// pattern, enum, minimum, maximum, maxItems), applied the way the API server applies a
/// structural schema: a violation is an error naming the field; an unknown field is a warning,
/// since the API server drops it silently.
/// </summary>
public static class SchemaCheck
{
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromSeconds(1);

    public static void Validate(JsonNode? node, V1JSONSchemaProps schema, string path, List<string> errors, List<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(warnings);
        if (node is null)
        {
            // A null field is the same as none (it is dropped), required ones are caught by their parent.
            return;
        }

        var at = path.Length == 0 ? "(root)" : path;
        switch (schema.Type)
        {
            case "object":
                if (node is not JsonObject obj)
                {
                    errors.Add($"{at}: must be an object, not {Describe(node)}");
                    return;
                }

                foreach (var required in schema.Required ?? [])
                {
                    if (obj[required] is null)
                    {
                        errors.Add($"{Join(path, required)}: Required value");
                    }
                }

                if (schema.Properties is { } properties)
                {
                    foreach (var (key, value) in obj)
                    {
                        if (properties.TryGetValue(key, out var property))
                        {
                            Validate(value, property, Join(path, key), errors, warnings);
                        }
                        else if (schema.XKubernetesPreserveUnknownFields != true)
                        {
                            warnings.Add($"{Join(path, key)}: unknown field, which the API server drops");
                        }
                    }
                }

                break;
            case "array":
                if (node is not JsonArray array)
                {
                    errors.Add($"{at}: must be a list, not {Describe(node)}");
                    return;
                }

                if (schema.MaxItems is { } max && array.Count > max)
                {
                    errors.Add($"{at}: {array.Count} items, at most {max}");
                }

                for (var i = 0; i < array.Count; i++)
                {
                    if (schema.Items is V1JSONSchemaProps items)
                    {
                        Validate(array[i], items, $"{path}[{i}]", errors, warnings);
                    }
                }

                break;
            case "string":
                if (node is not JsonValue text || text.GetValueKind() != JsonValueKind.String)
                {
                    errors.Add($"{at}: must be a string, not {Describe(node)}");
                    return;
                }

                var s = text.GetValue<string>();
                if (schema.Pattern is { } pattern && !Regex.IsMatch(s, pattern, RegexOptions.None, PatternTimeout))
                {
                    errors.Add($"{at}: \"{s}\" does not match {pattern}");
                }

                if (schema.EnumProperty is { Count: > 0 } allowed && !allowed.Any(a => string.Equals(a?.ToString(), s, StringComparison.Ordinal)))
                {
                    errors.Add($"{at}: \"{s}\" is not one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}");
                }

                break;
            case "integer" or "number":
                if (node is not JsonValue number || number.GetValueKind() != JsonValueKind.Number)
                {
                    errors.Add($"{at}: must be a number, not {Describe(node)}");
                    return;
                }

                var n = NumberOf(number);
                if (schema.Type == "integer" && n != Math.Floor(n))
                {
                    errors.Add($"{at}: {Format(n)} must be a whole number");
                }

                if (schema.Minimum is { } min && n < min)
                {
                    errors.Add($"{at}: {Format(n)} is below the minimum {Format(min)}");
                }

                if (schema.Maximum is { } maximum && n > maximum)
                {
                    errors.Add($"{at}: {Format(n)} is above the maximum {Format(maximum)}");
                }

                break;
            case "boolean":
                if (node is not JsonValue flag || flag.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                {
                    errors.Add($"{at}: must be true or false, not {Describe(node)}");
                }

                break;
        }
    }

    private static double NumberOf(JsonValue value) =>
        value.TryGetValue<double>(out var real) ? real
        : value.TryGetValue<long>(out var whole) ? whole
        : value.GetValue<JsonElement>().GetDouble();

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Describe(JsonNode node) => node switch
    {
        JsonObject => "an object",
        JsonArray => "a list",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => $"the string \"{v.GetValue<string>()}\"",
        _ => node.ToJsonString(),
    };
}
