using System.Globalization;
using System.Security;
using System.Text;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Health;

/// <summary>
/// The live mesh as a picture (<c>re6st graph</c>), from its MeshNodes: a host per node, coloured
/// by its home sub-mesh, bridges ringed; an arrow per edge, coloured by technology, dashed while it
/// drains. Regions are labels only: they never group the drawing (nothing in re6st groups by region).
/// </summary>
public static class MeshGraph
{
    // Colour-blind-safe (Okabe-Ito) colours for the sub-meshes, then for the technologies.
    private static readonly string[] SubMeshColours = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"];
    private static readonly Dictionary<string, string> TechnologyColours = new(StringComparer.Ordinal) { ["wireguard"] = "#0072B2", ["openvpn"] = "#D55E00" };

    /// <summary>One host of the picture.</summary>
    public sealed record Host(string Name, string SubMesh, bool Bridge, string? Region);

    /// <summary>One arrow of the picture, from the host that opened it.</summary>
    public sealed record Edge(string Id, string From, string To, string Technology, bool Draining);

    public static (IReadOnlyList<Host> Hosts, IReadOnlyList<Edge> Edges) Read(MeshView view, string regionLabel = "topology.kubernetes.io/region")
    {
        ArgumentNullException.ThrowIfNull(view);
        var nodes = view.Nodes.OrderBy(n => n.Spec.Node, StringComparer.Ordinal).ToList();
        var names = nodes.Select(n => n.Spec.Node).ToHashSet(StringComparer.Ordinal);
        var hosts = nodes.Select(n => new Host(
            n.Spec.Node,
            n.Spec.HomeSubMesh,
            n.Spec.Role == "bridge",
            n.Spec.NodeLabels?.TryGetValue(regionLabel, out var region) == true ? region : view.Regions.GetValueOrDefault(n.Spec.Node))).ToList();
        var edges = nodes
            .SelectMany(n => (n.Status?.Arrows ?? []).Where(a => a.Initiated && names.Contains(a.Peer))
                .Select(a => new Edge(a.Id ?? "", n.Spec.Node, a.Peer, a.Technology ?? "unknown", a.State == "draining")))
            .ToList();
        return (hosts, edges);
    }

    /// <summary>Graphviz's DOT: <c>dot -Tpng</c> and every tool that reads DOT draws it.</summary>
    public static string Dot(MeshView view)
    {
        var (hosts, edges) = Read(view);
        var colours = Colours(hosts);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"graph \"{view.Name}\" {{");
        text.AppendLine("  layout=circo; node [style=filled, fontname=\"sans-serif\"]; edge [penwidth=2];");
        foreach (var host in hosts)
        {
            var label = host.Region is null ? host.Name : $"{host.Name}\\n{host.Region}";
            text.AppendLine(CultureInfo.InvariantCulture, $"  \"{host.Name}\" [label=\"{label}\", fillcolor=\"{colours[host.SubMesh]}\"{(host.Bridge ? ", peripheries=2" : "")}, tooltip=\"sub-mesh {host.SubMesh}\"];");
        }

        foreach (var edge in edges)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  \"{edge.From}\" -- \"{edge.To}\" [color=\"{TechnologyColour(edge.Technology)}\"{(edge.Draining ? ", style=dashed" : "")}, tooltip=\"{edge.Id}: {edge.Technology}{(edge.Draining ? ", draining" : "")}\"];");
        }

        text.AppendLine("}");
        return text.ToString();
    }

    /// <summary>An SVG of its own (no Graphviz needed): the hosts on a circle, the arrows as chords, a legend.</summary>
    public static string Svg(MeshView view)
    {
        var (hosts, edges) = Read(view);
        var colours = Colours(hosts);
        const double size = 800, legendHeight = 90;
        var centre = size / 2;
        var radius = hosts.Count <= 1 ? 0 : size / 2 - 70;
        var hostRadius = Math.Clamp(300.0 / Math.Max(hosts.Count, 1), 6, 28);
        var places = hosts
            .OrderBy(h => h.SubMesh, StringComparer.Ordinal).ThenBy(h => h.Name, StringComparer.Ordinal)
            .Select((h, i) => (h.Name, Angle: 2 * Math.PI * i / Math.Max(hosts.Count, 1) - Math.PI / 2))
            .ToDictionary(p => p.Name, p => (X: centre + radius * Math.Cos(p.Angle), Y: centre + radius * Math.Sin(p.Angle)), StringComparer.Ordinal);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size + legendHeight}" viewBox="0 0 {size} {size + legendHeight}" font-family="sans-serif">""");
        text.AppendLine(CultureInfo.InvariantCulture, $"""  <title>mesh {Escape(view.Name)}: {hosts.Count} hosts, {edges.Count} arrows</title>""");
        text.AppendLine("""  <g class="arrows">""");
        foreach (var edge in edges)
        {
            var (from, to) = (places[edge.From], places[edge.To]);
            text.AppendLine(CultureInfo.InvariantCulture, $"""    <line class="arrow" data-id="{Escape(edge.Id)}" data-from="{Escape(edge.From)}" data-to="{Escape(edge.To)}" data-technology="{Escape(edge.Technology)}" data-state="{(edge.Draining ? "draining" : "active")}" x1="{F(from.X)}" y1="{F(from.Y)}" x2="{F(to.X)}" y2="{F(to.Y)}" stroke="{TechnologyColour(edge.Technology)}" stroke-width="2"{(edge.Draining ? " stroke-dasharray=\"6 4\"" : "")}><title>{Escape($"{edge.From} → {edge.To} ({edge.Id}): {edge.Technology}{(edge.Draining ? ", draining" : "")}")}</title></line>""");
        }

        text.AppendLine("  </g>");
        text.AppendLine("""  <g class="hosts">""");
        foreach (var host in hosts)
        {
            var (x, y) = places[host.Name];
            text.AppendLine(CultureInfo.InvariantCulture, $"""    <g class="host" data-name="{Escape(host.Name)}" data-sub-mesh="{Escape(host.SubMesh)}" data-role="{(host.Bridge ? "bridge" : "member")}">""");
            if (host.Bridge)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"""      <circle cx="{F(x)}" cy="{F(y)}" r="{F(hostRadius + 5)}" fill="none" stroke="#000" stroke-width="2"/>""");
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"""      <circle cx="{F(x)}" cy="{F(y)}" r="{F(hostRadius)}" fill="{colours[host.SubMesh]}" stroke="#333"><title>{Escape($"{host.Name}: sub-mesh {host.SubMesh}{(host.Bridge ? ", bridge" : "")}{(host.Region is null ? "" : $", region {host.Region}")}")}</title></circle>""");
            var label = host.Region is null ? host.Name : $"{host.Name} ({host.Region})";
            text.AppendLine(CultureInfo.InvariantCulture, $"""      <text x="{F(x)}" y="{F(y - hostRadius - 8)}" text-anchor="middle" font-size="12">{Escape(label)}</text>""");
            text.AppendLine("    </g>");
        }

        text.AppendLine("  </g>");
        var legend = new List<(string Colour, string Text, bool Dashed)>();
        legend.AddRange(colours.Select(c => (c.Value, $"sub-mesh {c.Key}", false)));
        legend.AddRange(edges.Select(e => e.Technology).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(t => (TechnologyColour(t), t, false)));
        legend.Add(("#000", "draining", true));
        text.AppendLine("""  <g class="legend" font-size="12">""");
        for (var i = 0; i < legend.Count; i++)
        {
            var (colour, label, dashed) = legend[i];
            var (x, y) = (20 + (i % 4) * 190, size + 20 + (i / 4) * 22);
            text.AppendLine(CultureInfo.InvariantCulture, $"""    <line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{colour}" stroke-width="6"{(dashed ? " stroke-dasharray=\"6 4\"" : "")}/><text x="{x + 32}" y="{y + 4}">{Escape(label)}</text>""");
        }

        text.AppendLine("  </g>");
        text.AppendLine("</svg>");
        return text.ToString();
    }

    private static Dictionary<string, string> Colours(IReadOnlyList<Host> hosts) =>
        hosts.Select(h => h.SubMesh).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select((s, i) => (s, SubMeshColours[i % SubMeshColours.Length]))
            .ToDictionary(x => x.s, x => x.Item2, StringComparer.Ordinal);

    private static string TechnologyColour(string technology) => TechnologyColours.GetValueOrDefault(technology, "#666666");

    private static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text);
}
