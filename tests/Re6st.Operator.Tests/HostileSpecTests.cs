using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using k8s;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;
using Re6st.Testing;

namespace Re6st.Operator.Tests;

/// <summary>
/// Mesh and RandomizationPolicy specs a user (or a script gone wrong) could apply, fuzzed: each
/// field absent, honest, a hostile string (tests/corpus), a random string or an extreme number.
/// Whatever deserializes must be judged by the operator's checks (<see cref="MeshPlanning.Check"/>,
/// which <c>re6st lint</c> runs too) without a crash, and every error must name its field. A spec
/// that does not deserialize (a string where a number goes) is refused by the API server's schema
/// before the operator sees it. Bounded by its number of cases; CsCheck prints the seed of a failure.
/// </summary>
public sealed class HostileSpecTests
{
    private const int Cases = 2_000;

    private static readonly Gen<JsonNode?> Strings = Gen.OneOf(Gen.OneOf([.. HostileStrings.All]), Gen.String).Select(s => (JsonNode?)JsonValue.Create(s));

    private static readonly Gen<JsonNode?> Integers = Gen.OneOf(Gen.Int, Gen.Int[-2, 130], Gen.OneOf(int.MinValue, -1, 0, 1, int.MaxValue)).Select(i => (JsonNode?)JsonValue.Create(i));

    private static readonly Gen<JsonNode?> Reals = Gen.OneOf(
        Gen.OneOf(-1.0, 0.0, 0.5, 1.0, 1.0000001, 1e300, -1e300, double.Epsilon),
        Gen.Double,
        Gen.Double[-2, 2]).Select(d => (JsonNode?)JsonValue.Create(d));

    /// <summary>A field of a spec: absent, what an honest user writes, or drawn from <paramref name="hostile"/> (of the field's type).</summary>
    private static Gen<JsonNode?> Field(JsonNode honest, Gen<JsonNode?> hostile) => Gen.Frequency(
        (3, Gen.Const((JsonNode?)null)),
        (3, Gen.Const(honest).Select(h => (JsonNode?)h.DeepClone())),
        (4, hostile));

    private static Gen<JsonNode?> Text(string honest) => Field(honest, Strings);

    private static Gen<JsonNode?> Integer(int honest) => Field(honest, Integers);

    private static Gen<JsonNode?> Real(double honest) => Field(honest, Reals);

    private static readonly Gen<JsonNode?> Selectors = Gen.Select(Strings, Strings, Gen.OneOf(Strings, Gen.OneOf("In", "NotIn", "Exists", "DoesNotExist").Select(o => (JsonNode?)JsonValue.Create(o))), Strings.Array[0, 3])
        .Select((key, value, op, values) => (JsonNode?)new JsonObject
        {
            ["matchLabels"] = new JsonObject { [key?.GetValue<string>() ?? "k"] = value },
            ["matchExpressions"] = new JsonArray(new JsonObject { ["key"] = key?.DeepClone(), ["operator"] = op, ["values"] = new JsonArray([.. values]) }),
        });

    /// <summary>An object with each field drawn from its generator (a null value leaves the field out).</summary>
    private static Gen<JsonObject> Object(params (string Field, Gen<JsonNode?> Value)[] fields) =>
        fields.Aggregate(
            Gen.Const(Array.Empty<KeyValuePair<string, JsonNode?>>()),
            (all, field) => Gen.Select(all, field.Value, (drawn, value) => value is null ? drawn : [.. drawn, KeyValuePair.Create(field.Field, (JsonNode?)value)]))
        .Select(drawn => new JsonObject(drawn));

    private static readonly Gen<JsonObject> Meshes = Object(
        ("ipv6Range", Text("fd5e:f1::/48")),
        ("ipv6NodePrefixLength", Integer(64)),
        ("ipv4Range", Text("10.9.0.0/16")),
        ("ipv4NodePrefixLength", Integer(24)),
        ("order", Integer(2)),
        ("subMeshes", Gen.OneOf(Gen.Const((JsonNode?)null), Integers.Array[0, 4].Select(n => (JsonNode?)new JsonArray(n)))),
        ("expectedNodes", Integer(100)),
        ("bridgeShare", Real(0.1)),
        ("bridgeRenewShare", Real(0.2)),
        ("minBridges", Integer(2)),
        ("bridgeReelectionPeriod", Text("1h")),
        ("nodeSelector", Gen.OneOf(Gen.Const((JsonNode?)null), Selectors)),
        ("technologies", Gen.OneOf(Gen.Const((JsonNode?)null), Gen.OneOf("wireguard", "openvpn").Array[0, 3].Select(t => (JsonNode?)new JsonArray([.. t.Select(x => (JsonNode?)JsonValue.Create(x))])))),
        ("babel", Gen.OneOf(Gen.Const((JsonNode?)null), Object(("helloInterval", Text("1s")), ("keyRotationPeriod", Text("720h"))).Select(o => (JsonNode?)o))),
        ("policyRef", Gen.Const((JsonNode?)null)),
        ("podNetwork", Gen.OneOf(Gen.Const((JsonNode?)null), Object(("enabled", Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))), ("ipv6PrefixLength", Integer(80)), ("ipv4PrefixLength", Integer(26))).Select(o => (JsonNode?)o))));

    private static readonly Gen<JsonObject> Policies = Object(
        ("refreshPeriod", Text("5m")),
        ("destroyShare", Real(0.3)),
        ("maxDrain", Text("10m")),
        ("mostUsedShare", Real(0.1)),
        ("mostUsedFactor", Real(0.5)),
        ("arrowsPerNode", Integer(8)),
        ("smallMeshSize", Integer(8)),
        ("bootstrapPeers", Gen.OneOf(Gen.Const((JsonNode?)null), Strings.Array[0, 3].Select(p => (JsonNode?)new JsonArray(p)))),
        ("preferred", Gen.OneOf(Gen.Const((JsonNode?)null), Gen.Select(Selectors, Reals, (s, n) => (JsonNode?)new JsonObject { ["selector"] = s, ["share"] = n }))),
        ("technologyRules", Gen.OneOf(Gen.Const((JsonNode?)null), Gen.Select(Strings, Selectors, (t, s) => (JsonNode?)new JsonArray(new JsonObject { ["technology"] = t, ["denyWhen"] = s })))));

    [Fact]
    public void AHostileMeshAndPolicy_NeverCrashTheOperatorsChecks_AndEachErrorNamesItsField()
    {
        var checkedSpecs = 0;
        Gen.Select(Meshes, Policies).Sample((meshSpec, policySpec) =>
        {
            V1Alpha1Mesh? mesh;
            V1Alpha1RandomizationPolicy? policy;
            try
            {
                mesh = KubernetesJson.Deserialize<V1Alpha1Mesh>(new JsonObject { ["apiVersion"] = "re6st.io/v1alpha1", ["kind"] = "Mesh", ["metadata"] = new JsonObject { ["name"] = "m" }, ["spec"] = meshSpec.DeepClone() }.ToJsonString());
                policy = KubernetesJson.Deserialize<V1Alpha1RandomizationPolicy>(new JsonObject { ["apiVersion"] = "re6st.io/v1alpha1", ["kind"] = "RandomizationPolicy", ["metadata"] = new JsonObject { ["name"] = "default" }, ["spec"] = policySpec.DeepClone() }.ToJsonString());
            }
            catch (JsonException)
            {
                return; // A value of the wrong type: the API server's schema refuses it first.
            }

            var (errors, _) = MeshPlanning.Check(mesh, policy, []);
            Assert.All(errors, e => Assert.Matches("^(RandomizationPolicy [^ ]+: )?spec\\.[a-zA-Z]", e));
            checkedSpecs++;
        }, iter: Cases);

        // The pass is worth its name only if most cases reach the checks.
        Assert.True(checkedSpecs > Cases / 10, $"only {checkedSpecs} of {Cases} generated specs deserialized");
    }
}
