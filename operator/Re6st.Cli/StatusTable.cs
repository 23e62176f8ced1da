using System.Globalization;
using Re6st.Operator.Health;
using Spectre.Console;

namespace Re6st.Cli;

/// <summary>
/// <c>re6st status</c> on a terminal: the figures of <see cref="ClusterCommands.Render"/> as
/// tables (Spectre.Console), with what needs a look in colour: a host whose agent fell silent or
/// that has no arrow in red, one still short of routes in yellow. A pipe or a file gets the plain
/// text instead, and scripts <c>--json</c>.
/// </summary>
public static class StatusTable
{
    public static string Render(string where, IReadOnlyList<MeshReport> reports, int width)
    {
        ArgumentNullException.ThrowIfNull(reports);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(text),
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = Math.Max(width, 80);
        console.MarkupLine($"cluster: [bold]{Markup.Escape(where)}[/]");
        if (reports.Count == 0)
        {
            console.MarkupLine("[yellow]no Mesh[/]");
        }

        foreach (var r in reports)
        {
            console.WriteLine();
            var ready = r.Ready == "Ready" ? "[green]Ready[/]" : $"[yellow]{Markup.Escape(r.Ready)}[/]";
            var technologies = r.ByTechnology.Count == 0 ? "" : $"; {string.Join(", ", r.ByTechnology.Select(t => $"{t.Key} {t.Value}"))}";
            console.MarkupLine($"mesh [bold]{Markup.Escape(r.Mesh)}[/]: {ready} · {r.Hosts.Count} host(s) · order {r.Order} · {r.SubMeshes} sub-mesh(es) · {r.Arrows} arrow(s) ({r.Draining} draining{Markup.Escape(technologies)})");
            var without = r.WithoutArrows.Count == 0 ? "none" : $"[red]{Markup.Escape(string.Join(", ", r.WithoutArrows))}[/]";
            console.MarkupLine($"routes per host: {r.RoutesMean:0.#} on average (K·N^(1/K) = {r.RoutesExpected:0.#}); hosts without arrows: {without}");
            if (r.Churn.Describe() is { } churn)
            {
                console.MarkupLine($"churn: {Markup.Escape(churn)}");
            }

            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn("host")
                .AddColumn("role")
                .AddColumn("sub-mesh")
                .AddColumn(new TableColumn("out").RightAligned())
                .AddColumn(new TableColumn("in").RightAligned())
                .AddColumn(new TableColumn("draining").RightAligned())
                .AddColumn(new TableColumn("routes/peers").RightAligned())
                .AddColumn("status written")
                .AddColumn("notes");
            foreach (var h in r.Hosts)
            {
                var cutOff = h.Out + h.In == 0 && r.Hosts.Count > 1;
                var written = h switch
                {
                    { HasStatus: false } => "[red]never[/]",
                    { HeartbeatAge: { } age } when h.Stale => $"[red]{age.TotalSeconds:0} s ago (stale)[/]",
                    { HeartbeatAge: { } age } => $"{age.TotalSeconds:0} s ago",
                    _ => "[red]no heartbeat[/]",
                };
                var routes = $"{(h.Routes is { } n ? n.ToString(CultureInfo.InvariantCulture) : "-")}/{h.Peers}";
                var notes = new List<string>();
                if (h.HandsOver)
                {
                    notes.Add("handing over");
                }

                if (h.StandingIn.Count > 0)
                {
                    notes.Add($"standing in for {string.Join(", ", h.StandingIn)}");
                }

                table.AddRow(
                    h.Stale || cutOff ? $"[red]{Markup.Escape(h.Host)}[/]" : Markup.Escape(h.Host),
                    Markup.Escape(h.Role),
                    Markup.Escape(h.SubMeshes),
                    cutOff ? "[red]0[/]" : h.Out.ToString(CultureInfo.InvariantCulture),
                    cutOff ? "[red]0[/]" : h.In.ToString(CultureInfo.InvariantCulture),
                    h.Draining.ToString(CultureInfo.InvariantCulture),
                    h.Routes is { } have && have < h.Peers ? $"[yellow]{routes}[/]" : routes,
                    written,
                    Markup.Escape(string.Join("; ", notes)));
            }

            console.Write(table);
        }

        return text.ToString();
    }
}
