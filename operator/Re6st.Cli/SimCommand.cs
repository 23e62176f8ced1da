using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Re6st.Simulation;

namespace Re6st.Cli;

public static class SimCommand
{
    public static Command Create()
    {
        var nodes = CliOptions.Number("--nodes", "N", "hosts", null, 2, 5_000_000);
        nodes.Required = true;
        var order = CliOptions.Number("--order", "K", "the mesh's order", 1, 1, 3);
        var arrows = CliOptions.Number("--arrows", "A", "arrows each node draws per sub-mesh it belongs to", 10, 1, 256);
        var seed = CliOptions.Seed("seed of every random draw", 1);
        var regions = CliOptions.Number("--regions", "R", "region labels for crises (the policy never reads them)", 8, 1, SimNodes.RegionNames.Length);
        var pairs = CliOptions.Number("--pairs", "P", "sampled pairs for stretch and distance", 1000, 1, 1_000_000);
        var scenarioPairs = CliOptions.Number("--scenario-pairs", "P", "sampled pairs per resilience, crisis and churn measurement", 400, 1, 1_000_000);
        var churnPeriods = CliOptions.Number("--churn-periods", "T", "periods of the destruction policy to run", 5, 0, 10_000);
        var allPairs = CliOptions.Flag("--all-pairs", "exact mean distance over all pairs (bit-parallel BFS on all cores; up to ~10^5 nodes)");
        var json = CliOptions.Text("--json", "FILE", "write the report as JSON ('-' for stdout)");
        var plot = CliOptions.Text("--plot", "DIR", "write SVG charts (routing-table size vs N for orders 1-3, resilience, crises)");
        var quiet = CliOptions.Flag("--quiet", "no progress on stderr");
        var command = new Command("sim", """
            Simulates a mesh of N hosts with the core's own policy code.

            Simulates a mesh of N nodes with the core's own planner and arrow policy and reports
            routing-table sizes (vs K·N^(1/K)), hop stretch vs a flat random mesh, resilience to node
            loss, crises against a region-grouped mesh, and churn under the destruction policy.
            """).With(nodes, order, arrows, seed, regions, pairs, scenarioPairs, churnPeriods, allPairs, json, plot, quiet);
        command.SetAction((r, token) => RunAsync(
            new SimOptions
            {
                Nodes = r.GetValue(nodes),
                Order = r.GetValue(order),
                Arrows = r.GetValue(arrows),
                Seed = r.GetValue(seed),
                Regions = r.GetValue(regions),
                Pairs = r.GetValue(pairs),
                ScenarioPairs = r.GetValue(scenarioPairs),
                ChurnPeriods = r.GetValue(churnPeriods),
                AllPairs = r.GetValue(allPairs),
            },
            r.GetValue(json),
            r.GetValue(plot),
            r.GetValue(quiet)));
        return command;
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static async Task<int> RunAsync(SimOptions options, string? jsonPath, string? plotDirectory, bool quiet)
    {
        SimReport report;
        if (quiet)
        {
            report = Simulator.Run(options, ProgressLog.Quiet);
        }
        else
        {
            await using var progress = await StepProgress.StartAsync();
            report = await Task.Run(() => Simulator.Run(options, new ProgressLog(progress)));
        }

        var json = JsonSerializer.Serialize(report, Json);
        if (jsonPath == "-")
        {
            Console.WriteLine(json);
        }
        else
        {
            Console.Write(ReportText.Format(report));
            if (jsonPath is not null)
            {
                File.WriteAllText(jsonPath, json + "\n");
                Console.WriteLine($"  json: {jsonPath}");
            }
        }

        if (plotDirectory is { } dir)
        {
            foreach (var file in Plots.Write(dir, report, quiet ? ProgressLog.Quiet : new ProgressLog(Console.Error)))
            {
                Console.Error.WriteLine($"  plot: {file}");
            }
        }

        return 0;
    }
}
