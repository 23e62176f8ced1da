using System.Globalization;
using Re6st.Lab.Cluster;
using Re6st.Operator.Health;
using Spectre.Console;

namespace Re6st.Cli;

/// <summary>
/// <c>re6st status</c> (and <c>re6st lab status</c>) on a terminal: the figures of <see cref="ClusterCommands.Render"/> as
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
        var console = ConsoleOn(text, width);
        console.MarkupLine($"cluster: [bold]{Markup.Escape(where)}[/]");
        if (reports.Count == 0)
        {
            console.MarkupLine("[yellow]no Mesh[/]");
        }

        foreach (var r in reports)
        {
            console.WriteLine();
            var ready = r.Ready == "Ready" ? "[green]Ready[/]" : $"[yellow]{Markup.Escape(r.Ready)}[/]";
            console.MarkupLine($"mesh [bold]{Markup.Escape(r.Mesh)}[/]: {ready} · {Markup.Escape(r.Shape)}");
            var without = r.WithoutArrows.Count == 0 ? "none" : $"[red]{Markup.Escape(string.Join(", ", r.WithoutArrows))}[/]";
            console.MarkupLine($"{Markup.Escape(r.RoutesSummary)}; hosts without arrows: {without}");
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
                table.AddRow(
                    Colour(h.Host, h.Stale || cutOff ? "red" : null),
                    Markup.Escape(h.Role),
                    Markup.Escape(h.SubMeshes),
                    Colour(h.Out.ToString(CultureInfo.InvariantCulture), cutOff ? "red" : null),
                    Colour(h.In.ToString(CultureInfo.InvariantCulture), cutOff ? "red" : null),
                    h.Draining.ToString(CultureInfo.InvariantCulture),
                    Colour(h.RoutesAgainstPeers, h.Routes is { } have && have < h.Peers ? "yellow" : null),
                    Colour(h.Written, h.Stale ? "red" : null),
                    Markup.Escape(h.Notes));
            }

            console.Write(table);
        }

        return text.ToString();
    }

    /// <summary>
    /// <c>re6st lab status</c> on a terminal: the lab's hosts as a table (an agent whose metrics do
    /// not answer in red), then the churn, the arrows' picture and where to look, as plain text.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static string RenderLab(LabSnapshot snapshot, string repository, int width)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        var console = ConsoleOn(text, width);
        console.MarkupLine(Markup.Escape(snapshot.Title));
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var (column, i) in LabSnapshot.Columns.Select((c, i) => (c, i)))
        {
            table.AddColumn(i >= 5 ? new TableColumn(column).RightAligned() : new TableColumn(column));
        }

        foreach (var row in snapshot.Hosts)
        {
            var down = row.Metrics is null;
            table.AddRow([.. LabSnapshot.Cells(row).Select((cell, i) => Colour(cell, down && i is 0 or 4 ? "red" : null))]);
        }

        console.Write(table);
        return text + snapshot.Details(repository);
    }

    private static IAnsiConsole ConsoleOn(StringWriter text, int width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(text),
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = Math.Max(width, 80);
        return console;
    }

    private static string Colour(string text, string? colour) => colour is null ? Markup.Escape(text) : $"[{colour}]{Markup.Escape(text)}[/]";
}
