using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Randomness;
using Re6st.Simulation.Routing;
using YamlDotNet.RepresentationModel;

namespace Re6st.Core.Tests;

/// <summary>
/// Golden files: golden/NAME.yaml (layout, seed, nodes, optional previous plan) gives
/// golden/NAME.plan.json (every node's plan and routing table). With RE6ST_UPDATE_GOLDEN=1 the
/// JSON files are rewritten in the source tree instead of compared; review the diff before keeping it.
/// </summary>
public sealed class GoldenPlanTests
{
    private const string UpdateVariable = "RE6ST_UPDATE_GOLDEN";

    private static readonly string[] Cases =
    [
        "order1-five-nodes-ipv4",
        "order2-thirty-nodes",
        "order3-sixty-nodes",
        "order2-join",
        "order2-layout-change-renumbers",
    ];

    public static TheoryData<string> CaseNames => [.. Cases];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Plan_GoldenCase_MatchesTheCommittedJson(string name)
    {
        var directory = GoldenDirectory();
        var input = Path.Combine(directory, name + ".yaml");
        var output = Path.Combine(directory, name + ".plan.json");
        var actual = Render(File.ReadAllText(input));

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(output, actual);
            Assert.Equal(actual, File.ReadAllText(output));
            return;
        }

        Assert.True(File.Exists(output), $"{output} is missing; run the tests with {UpdateVariable}=1 to create it");
        var expected = File.ReadAllText(output).ReplaceLineEndings("\n");
        Assert.True(expected == actual, $"{name}: the plan differs from {output} ({FirstDifference(expected, actual)}); if the change is intended, run the tests with {UpdateVariable}=1 and review the diff");
    }

    [Fact]
    public void GoldenDirectory_EveryInputFile_IsACase()
    {
        var inputs = Directory.GetFiles(GoldenDirectory(), "*.yaml").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(Cases.Order(StringComparer.Ordinal), inputs);
    }

    [Fact]
    public void Render_SameInputTwice_GivesTheSameJson()
    {
        var text = File.ReadAllText(Path.Combine(GoldenDirectory(), Cases[2] + ".yaml"));
        Assert.Equal(Render(text), Render(text));
    }

    private static string Render(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;

        var layout = ParseLayout((YamlMappingNode)root["layout"]);
        var nodes = ((YamlSequenceNode)root["nodes"]).Select(ParseNode).ToList();
        var seed = ulong.Parse(Scalar(root, "seed")!, CultureInfo.InvariantCulture);
        var reelect = Scalar(root, "reelectBridges") == "true";

        PlanState? previous = null;
        if (root.Children.TryGetValue(new YamlScalarNode("previous"), out var p))
        {
            var before = (YamlMappingNode)p;
            var beforeLayout = before.Children.ContainsKey(new YamlScalarNode("layout")) ? ParseLayout((YamlMappingNode)before["layout"]) : layout;
            var beforeNodes = ((YamlSequenceNode)before["nodes"]).Select(ParseNode).ToList();
            var beforeSeed = ulong.Parse(Scalar(before, "seed")!, CultureInfo.InvariantCulture);
            previous = MeshPlanner.Plan(beforeLayout, beforeNodes, null, false, new Xoshiro256StarStar(beforeSeed)).ToState();
        }

        var plan = MeshPlanner.Plan(layout, nodes, previous, reelect, new Xoshiro256StarStar(seed));
        return ToJson(plan, previous);
    }

    private static MeshLayout ParseLayout(YamlMappingNode node)
    {
        int? Int(string key) => Scalar(node, key) is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : null;
        double? Double(string key) => Scalar(node, key) is { } s ? double.Parse(s, CultureInfo.InvariantCulture) : null;
        var spec = new MeshSpec
        {
            Ipv6Range = Scalar(node, "ipv6Range"),
            Ipv6NodePrefixLength = Int("ipv6NodePrefixLength"),
            Ipv4Range = Scalar(node, "ipv4Range"),
            Ipv4NodePrefixLength = Int("ipv4NodePrefixLength"),
            Order = Int("order"),
            SubMeshes = node.Children.TryGetValue(new YamlScalarNode("subMeshes"), out var s)
                ? [.. ((YamlSequenceNode)s).Select(n => int.Parse(((YamlScalarNode)n).Value!, CultureInfo.InvariantCulture))]
                : null,
            ExpectedNodes = Int("expectedNodes"),
            BridgeShare = Double("bridgeShare"),
            BridgeRenewShare = Double("bridgeRenewShare"),
            MinBridges = Int("minBridges"),
        };
        return MeshValidator.Validate(spec).ValueOrThrow();
    }

    /// <summary>A node is a name, or a mapping with name, optional labels and capacity.</summary>
    private static NodeInfo ParseNode(YamlNode node)
    {
        if (node is YamlScalarNode scalar)
        {
            return NodeInfo.Named(scalar.Value!);
        }

        var map = (YamlMappingNode)node;
        var labels = map.Children.TryGetValue(new YamlScalarNode("labels"), out var l)
            ? ((YamlMappingNode)l).Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value!, StringComparer.Ordinal)
            : new Dictionary<string, string>();
        var capacity = Scalar(map, "capacity") is { } c ? double.Parse(c, CultureInfo.InvariantCulture) : 1;
        return new NodeInfo(Scalar(map, "name")!, labels, capacity);
    }

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

    private static string ToJson(MeshPlan plan, PlanState? previous)
    {
        var buffer = new MemoryStream();
        var options = new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var w = new Utf8JsonWriter(buffer, options))
        {
            var layout = plan.Layout;
            var tree = plan.Tree;
            var hasV4 = layout.Ipv4Range is not null;
            w.WriteStartObject();

            w.WriteStartObject("layout");
            w.WriteString("ipv6Range", layout.Ipv6Range.ToString());
            w.WriteNumber("ipv6NodePrefixLength", layout.Ipv6NodePrefixLength);
            if (layout.Ipv4Range is { } v4Range)
            {
                w.WriteString("ipv4Range", v4Range.ToString());
                w.WriteNumber("ipv4NodePrefixLength", layout.Ipv4NodePrefixLength);
            }

            w.WriteNumber("order", layout.Order);
            w.WriteStartArray("subMeshes");
            foreach (var fan in layout.SubMeshes)
            {
                w.WriteNumberValue(fan);
            }

            w.WriteEndArray();
            w.WriteNumber("slotsPerLeaf", layout.SlotsPerLeaf);
            w.WriteEndObject();

            if (previous is not null)
            {
                w.WriteStartObject("previous");
                foreach (var (name, allocation) in previous.Nodes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    w.WriteString(name, $"{allocation.SubMesh} {allocation.Ipv6Prefix}{(allocation.Ipv4Prefix is { } v4 ? " " + v4 : "")}");
                }

                w.WriteEndObject();
            }

            Strings(w, "errors", plan.Errors);
            Strings(w, "notes", plan.Notes);

            w.WriteStartArray("subMeshes");
            for (var s = 0; s < tree.Count; s++)
            {
                w.WriteStartObject();
                w.WriteString("id", tree.IdOf(s));
                w.WriteNumber("level", tree.LevelOf(s));
                w.WriteString("ipv6Range", tree.Ipv6RangeOf(s).ToString());
                if (tree.Ipv4RangeOf(s) is { } v4)
                {
                    w.WriteString("ipv4Range", v4.ToString());
                }

                w.WriteNumber("nodes", plan.CountUnder(s));
                if (tree.IsLeaf(s))
                {
                    Strings(w, "homeMembers", plan.HomeMembers(s).ToArray().Select(m => plan.Nodes[m].Name));
                    Strings(w, "visitingBridges", plan.Visitors(s).ToArray().Select(m => plan.Nodes[m].Name));
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();

            w.WriteStartArray("bridges");
            foreach (var b in plan.Bridges)
            {
                w.WriteStartObject();
                w.WriteString("node", plan.Nodes[b.Node].Name);
                w.WriteString("home", tree.IdOf(plan.HomeOf(b.Node)));
                w.WriteNumber("level", b.Level);
                w.WriteString("target", tree.IdOf(b.Target));
                w.WriteString("reason", b.Reason.ToString());
                w.WriteEndObject();
            }

            w.WriteEndArray();

            var model = new RoutingTableModel(plan);
            w.WriteStartArray("nodes");
            for (var i = 0; i < plan.NodeCount; i++)
            {
                w.WriteStartObject();
                w.WriteString("name", plan.Nodes[i].Name);
                if (!plan.IsPlaced(i))
                {
                    w.WriteBoolean("placed", false);
                    w.WriteEndObject();
                    continue;
                }

                var node = plan.NodePlanFor(i);
                w.WriteString("homeSubMesh", node.HomeSubMesh);
                w.WriteString("ipv6Prefix", node.Ipv6Prefix.ToString());
                if (node.Ipv4Prefix is { } v4)
                {
                    w.WriteString("ipv4Prefix", v4.ToString());
                }

                w.WriteStartArray("memberships");
                foreach (var m in node.Memberships)
                {
                    w.WriteStartObject();
                    w.WriteString("subMesh", m.SubMesh);
                    w.WriteString("role", m.Role.ToString());
                    if (m.BridgeLevel is { } level)
                    {
                        w.WriteNumber("bridgeLevel", level);
                    }

                    w.WriteString("ipv6Range", m.Ipv6Range.ToString());
                    if (m.Ipv4Range is { } range)
                    {
                        w.WriteString("ipv4Range", range.ToString());
                    }

                    Strings(w, "announce", m.Announce.Select(a => a.ToString()));
                    Strings(w, "denyOut", m.DenyOut.Select(f => $"{f.Prefix} {(f.Match == FilterMatch.Exact ? "exact" : "more-specific")}"));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteNumber("routeCount", model.EntryCount(i));
                Strings(w, "ipv6Routes", model.Entries(i, IpFamily.V6).Select(r => r.ToString()));
                if (hasV4)
                {
                    Strings(w, "ipv4Routes", model.Entries(i, IpFamily.V4).Select(r => r.ToString()));
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var left = i < e.Length ? e[i] : "<end>";
            var right = i < a.Length ? a[i] : "<end>";
            if (left != right)
            {
                return $"line {i + 1}: expected `{left.Trim()}`, got `{right.Trim()}`";
            }
        }

        return "same lines";
    }

    /// <summary>golden/ in the source tree (so updates land there), else the copy next to the test assembly.</summary>
    private static string GoldenDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Re6st.Core.Tests.csproj")))
            {
                return Path.Combine(dir.FullName, "golden");
            }
        }

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            throw new InvalidOperationException($"cannot update golden files: no Re6st.Core.Tests.csproj above {AppContext.BaseDirectory}");
        }

        return Path.Combine(AppContext.BaseDirectory, "golden");
    }
}
