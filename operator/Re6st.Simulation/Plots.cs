using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using Re6st.Core.Planning;
using Re6st.Core.Randomness;
using Re6st.Simulation.Routing;

namespace Re6st.Simulation;

/// <summary>SVG charts of the simulator's claims, drawn with OxyPlot.</summary>
public static class Plots
{
    /// <summary>Writes routes-vs-nodes.svg, resilience.svg and crisis.svg; returns the files written.</summary>
    public static IReadOnlyList<string> Write(string directory, SimReport report, ProgressLog log)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(log);
        Directory.CreateDirectory(directory);
        var files = new List<string>();

        log.Step("plot: routing-table size against N for orders 1 to 3");
        files.Add(Save(directory, "routes-vs-nodes.svg", RouteScaling(Math.Max(100_000, report.Nodes), report.Seed)));
        files.Add(Save(directory, "resilience.svg", Resilience(report)));
        files.Add(Save(directory, "crisis.svg", Crisis(report)));
        return files;
    }

    /// <summary>Mean routing-table entries (from the plan, by the routing model) and K·N^(1/K), log-log.</summary>
    public static PlotModel RouteScaling(int maxNodes, ulong seed)
    {
        var model = NewModel("Routing-table entries per node", "mean over all nodes (points) and K·N^(1/K) (dashed lines)");
        model.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Bottom, Title = "nodes (N)", MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Left, Title = "routes per node", MajorGridlineStyle = LineStyle.Dot });
        var sizes = new List<int>();
        for (var n = 100.0; n <= maxNodes * 1.0001; n *= Math.Sqrt(10))
        {
            sizes.Add((int)Math.Round(n));
        }

        OxyColor[] colors = [OxyColors.SteelBlue, OxyColors.DarkOrange, OxyColors.ForestGreen];
        for (var order = 1; order <= 3; order++)
        {
            var measured = new ScatterSeries { Title = $"order {order}", MarkerType = MarkerType.Circle, MarkerFill = colors[order - 1], MarkerSize = 4 };
            var theory = new LineSeries { Title = $"{order}·N^(1/{order})", Color = colors[order - 1], LineStyle = LineStyle.Dash };
            foreach (var n in sizes)
            {
                var nodes = Enumerable.Range(0, n).Select(i => Re6st.Core.Arrows.NodeInfo.Named("h" + i)).ToArray();
                var plan = MeshPlanner.Plan(Simulator.LayoutFor(n, order), nodes, null, false, Xoshiro256StarStar.ForStream(seed, (ulong)order, (ulong)n));
                var counts = new RoutingTableModel(plan).EntryCounts();
                measured.Points.Add(new ScatterPoint(n, counts.Average()));
                theory.Points.Add(new DataPoint(n, RoutingTableModel.Theory(n, order)));
            }

            model.Series.Add(theory);
            model.Series.Add(measured);
        }

        return model;
    }

    public static PlotModel Resilience(SimReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var model = NewModel("Connected pairs after random node loss", $"{report.Nodes:N0} nodes, order {report.Order}, {report.Arrows} arrows per node");
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "nodes lost (%)", Minimum = 0 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "share of pairs connected", Minimum = 0, Maximum = 1.02 });
        var mesh = new LineSeries { Title = $"order-{report.Order} mesh, routed", MarkerType = MarkerType.Circle };
        var flat = new LineSeries { Title = "flat random mesh", MarkerType = MarkerType.Square, LineStyle = LineStyle.Dash };
        mesh.Points.Add(new DataPoint(0, 1));
        flat.Points.Add(new DataPoint(0, 1));
        foreach (var p in report.Resilience)
        {
            mesh.Points.Add(new DataPoint(p.LossPercent, p.Connected));
            flat.Points.Add(new DataPoint(p.LossPercent, p.FlatConnected));
        }

        model.Series.Add(mesh);
        model.Series.Add(flat);
        return model;
    }

    public static PlotModel Crisis(SimReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var model = NewModel("Crises: random mesh vs region-grouped mesh", "share of pairs still connected");
        model.PlotMargins = new OxyThickness(160, double.NaN, 30, double.NaN);
        var cases = report.Crisis.Cases;
        model.Axes.Add(new CategoryAxis { Position = AxisPosition.Left, ItemsSource = cases.Select(c => CaseLabel(c.Name)).ToArray() });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Minimum = 0, Maximum = 1.02, Title = "share of pairs connected" });
        var random = new BarSeries { Title = "random mesh (re6st)", FillColor = OxyColors.SteelBlue };
        var grouped = new BarSeries { Title = "region-grouped mesh", FillColor = OxyColors.IndianRed };
        foreach (var c in cases)
        {
            random.Items.Add(new BarItem(c.Random));
            grouped.Items.Add(new BarItem(c.Grouped));
        }

        model.Series.Add(random);
        model.Series.Add(grouped);
        return model;
    }

    private static string CaseLabel(string name) => name switch
    {
        "regionCut" => "region pair cut off",
        "bestConnectedLost" => "best 2 % of a region lost",
        _ => name,
    };

    /// <summary>
    /// Legend below the plot and generous margins. CAVEAT: OxyPlot sizes text with Helvetica/Arial
    /// metrics, so the charts name Arial; a viewer without Arial or a metric-compatible font
    /// (Liberation Sans) may clip legend text.
    /// </summary>
    private static PlotModel NewModel(string title, string subtitle)
    {
        var model = new PlotModel
        {
            Title = title,
            Subtitle = subtitle,
            DefaultFont = "Arial",
            Padding = new OxyThickness(12, 24, 24, 12),
        };
        model.Legends.Add(new Legend
        {
            LegendPlacement = LegendPlacement.Outside,
            LegendPosition = LegendPosition.BottomCenter,
            LegendOrientation = LegendOrientation.Horizontal,
            LegendItemSpacing = 40,
            LegendSymbolLength = 28,
        });
        return model;
    }

    private static string Save(string directory, string name, PlotModel model)
    {
        var path = Path.Combine(directory, name);
        using var stream = File.Create(path);
        new SvgExporter { Width = 900, Height = 560, TextMeasurer = new ArialTextMeasurer() }.Export(model, stream);
        return path;
    }
}
