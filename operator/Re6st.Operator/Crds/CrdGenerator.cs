using System.Collections;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Crds;

/// <summary>
/// CRDs generated from the C# resource types: property names from [JsonPropertyName], validation
/// from DataAnnotations ([Required], [Range], [RegularExpression], [MaxLength], [AllowedValues]),
/// descriptions from [Description], printer columns from [PrinterColumn]. One source of truth:
/// the YAML in crds/ is this output, and a test fails when it is stale.
/// </summary>
public static class CrdGenerator
{
    private static readonly Dictionary<Type, string[]> ShortNames = new()
    {
        [typeof(V1Alpha1Mesh)] = ["msh"],
        [typeof(V1Alpha1RandomizationPolicy)] = ["rpol"],
        [typeof(V1Alpha1MeshNode)] = ["mn"],
    };

    public static IReadOnlyList<Type> ResourceTypes { get; } = [typeof(V1Alpha1Mesh), typeof(V1Alpha1RandomizationPolicy), typeof(V1Alpha1MeshNode)];

    public static IReadOnlyList<V1CustomResourceDefinition> All() => [.. ResourceTypes.Select(Generate)];

    /// <summary>File name and YAML text of each CRD, as committed in crds/.</summary>
    public static IReadOnlyList<(string FileName, string Yaml)> Files() =>
        [.. All().Select(crd => ($"{crd.Metadata.Name}.yaml",
            "# Generated from operator/Re6st.Operator/Resources and operator/Re6st.Contracts by `./re6st crds`; do not edit.\n" + KubernetesYaml.Serialize(crd)))];

    public static V1CustomResourceDefinition Generate(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var entity = type.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new ArgumentException($"{type.Name} has no [KubernetesEntity]", nameof(type));
        var root = new V1JSONSchemaProps
        {
            Type = "object",
            Description = type.GetCustomAttribute<DescriptionAttribute>()?.Description,
            Properties = new Dictionary<string, V1JSONSchemaProps>(),
            Required = [],
        };
        foreach (var property in JsonProperties(type))
        {
            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name;
            root.Properties[name] = name switch
            {
                "apiVersion" or "kind" => new V1JSONSchemaProps { Type = "string" },
                "metadata" => new V1JSONSchemaProps { Type = "object" },
                _ => PropertySchema(property),
            };
            if (property.GetCustomAttribute<RequiredAttribute>() is not null)
            {
                root.Required.Add(name);
            }
        }

        if (root.Required.Count == 0)
        {
            root.Required = null;
        }

        return new V1CustomResourceDefinition
        {
            ApiVersion = "apiextensions.k8s.io/v1",
            Kind = "CustomResourceDefinition",
            Metadata = new V1ObjectMeta { Name = $"{entity.PluralName}.{entity.Group}" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = entity.Group,
                Scope = "Cluster",
                Names = new V1CustomResourceDefinitionNames
                {
                    Kind = entity.Kind,
                    ListKind = entity.Kind + "List",
                    Plural = entity.PluralName,
                    Singular = entity.Kind.ToLowerInvariant(),
                    ShortNames = ShortNames.GetValueOrDefault(type),
                    Categories = ["re6st"],
                },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = entity.ApiVersion,
                        Served = true,
                        Storage = true,
                        Schema = new V1CustomResourceValidation { OpenAPIV3Schema = root },
                        Subresources = new V1CustomResourceSubresources { Status = new Dictionary<string, object>() },
                        AdditionalPrinterColumns = [.. type.GetCustomAttributes<PrinterColumnAttribute>().Select(c => new V1CustomResourceColumnDefinition
                        {
                            Name = c.Name,
                            Type = c.Type,
                            JsonPath = c.JsonPath,
                            Description = c.Description,
                            Priority = c.Priority == 0 ? null : c.Priority,
                        })],
                    },
                ],
            },
        };
    }

    private static IEnumerable<PropertyInfo> JsonProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<JsonPropertyNameAttribute>() is not null && p.GetCustomAttribute<JsonIgnoreAttribute>() is null);

    private static V1JSONSchemaProps PropertySchema(PropertyInfo property)
    {
        var schema = TypeSchema(property.PropertyType);
        schema.Description ??= property.GetCustomAttribute<DescriptionAttribute>()?.Description;
        if (property.GetCustomAttribute<RangeAttribute>() is { } range)
        {
            schema.Minimum = Convert.ToDouble(range.Minimum, System.Globalization.CultureInfo.InvariantCulture);
            schema.Maximum = Convert.ToDouble(range.Maximum, System.Globalization.CultureInfo.InvariantCulture);
        }

        if (property.GetCustomAttribute<RegularExpressionAttribute>() is { } regex)
        {
            schema.Pattern = regex.Pattern;
        }

        if (property.GetCustomAttribute<MaxLengthAttribute>() is { } max)
        {
            if (schema.Type == "array")
            {
                schema.MaxItems = max.Length;
            }
            else
            {
                schema.MaxLength = max.Length;
            }
        }

        if (property.GetCustomAttribute<BoundAttribute>() is { } bound)
        {
            if (schema.Type == "array")
            {
                schema.MaxItems = bound.Max;
            }
            else
            {
                schema.MaxLength = bound.Max;
            }
        }

        if (property.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed)
        {
            schema.EnumProperty = [.. allowed.Values.Select(v => (object)v!)];
        }

        return schema;
    }

    private static V1JSONSchemaProps TypeSchema(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return new V1JSONSchemaProps { Type = "string" };
        }

        if (type == typeof(int) || type == typeof(long))
        {
            return new V1JSONSchemaProps { Type = "integer", Format = type == typeof(int) ? "int32" : "int64" };
        }

        if (type == typeof(double))
        {
            return new V1JSONSchemaProps { Type = "number" };
        }

        if (type == typeof(bool))
        {
            return new V1JSONSchemaProps { Type = "boolean" };
        }

        if (type == typeof(DateTime))
        {
            return new V1JSONSchemaProps { Type = "string", Format = "date-time" };
        }

        if (type.IsEnum)
        {
            return new V1JSONSchemaProps
            {
                Type = "string",
                EnumProperty = [.. type.GetFields(BindingFlags.Public | BindingFlags.Static)
                    .Select(f => (object)(f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name))],
            };
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            return new V1JSONSchemaProps { Type = "object", AdditionalProperties = TypeSchema(type.GetGenericArguments()[1]) };
        }

        if (type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type) && type.IsGenericType)
        {
            return new V1JSONSchemaProps { Type = "array", Items = TypeSchema(type.GetGenericArguments()[0]) };
        }

        var properties = new Dictionary<string, V1JSONSchemaProps>();
        var required = new List<string>();
        foreach (var p in JsonProperties(type))
        {
            var name = p.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name;
            properties[name] = PropertySchema(p);
            if (p.GetCustomAttribute<RequiredAttribute>() is not null)
            {
                required.Add(name);
            }
        }

        return new V1JSONSchemaProps { Type = "object", Properties = properties, Required = required.Count == 0 ? null : required };
    }
}
