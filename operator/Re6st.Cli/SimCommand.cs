using System.Text.Json;
using System.Text.Json.Serialization;
using Re6st.Simulation;

namespace Re6st.Cli;

public static class SimCommand
{
    public const string Usage = """
        usage: re6st sim --nodes N [--order K] [--arrows A] [--seed S] [--json FILE] [--plot DIR]
                         [--regions R] [--pairs P] [--scenario-pairs P] [--churn-periods T] [--all-pairs] [--quiet]

          Builds an N-node mesh with the core's planner and arrow policy and reports routing-table
          sizes (vs K·N^(1/K)), hop stretch vs a flat random mesh, resilience to node loss, crises
          against a region-grouped mesh, and churn under the destruction policy.

          --nodes N            hosts (2 to 5,000,000)
          --order K            1, 2 or 3 (default 1)
          --arrows A           arrows each node draws per sub-mesh it belongs to (default 10)
          --seed S             seed of every random draw (default 1)
          --regions R          region labels for crises, 1 to 12 (default 8; the policy never reads them)
          --pairs P            sampled pairs for stretch and distance (default 1000)
          --scenario-pairs P   sampled pairs per resilience/crisis/churn measurement (default 400)
          --churn-periods T    periods of the destruction policy to run (default 5)
          --all-pairs          exact mean distance over all pairs (bit-parallel BFS on all cores; up to ~10^5 nodes)
          --json FILE          write the report as JSON ('-' for stdout)
          --plot DIR           write SVG charts (routing-table size vs N for orders 1-3, resilience, crises)
          --quiet              no progress lines on stderr
        """;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static int Run(string[] args)
    {
        var a = new Arguments(
            args,
            new HashSet<string> { "--nodes", "--order", "--arrows", "--seed", "--json", "--plot", "--regions", "--pairs", "--scenario-pairs", "--churn-periods" },
            new HashSet<string> { "--all-pairs", "--quiet", "--help" });
        if (a.Has("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        if (!a.Has("--nodes"))
        {
            throw new UsageException("--nodes is required");
        }

        var options = new SimOptions
        {
            Nodes = a.Number("--nodes", 1000, 2, 5_000_000),
            Order = a.Number("--order", 1, 1, 3),
            Arrows = a.Number("--arrows", 10, 1, 256),
            Seed = a.Seed("--seed", 1),
            Regions = a.Number("--regions", 8, 1, SimNodes.RegionNames.Length),
            Pairs = a.Number("--pairs", 1000, 1, 1_000_000),
            ScenarioPairs = a.Number("--scenario-pairs", 400, 1, 1_000_000),
            ChurnPeriods = a.Number("--churn-periods", 5, 0, 10_000),
            AllPairs = a.Has("--all-pairs"),
        };
        var log = new ProgressLog(a.Has("--quiet") ? null : Console.Error);
        var report = Simulator.Run(options, log);
        var json = JsonSerializer.Serialize(report, Json);
        var jsonPath = a.Text("--json");
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

        if (a.Text("--plot") is { } dir)
        {
            foreach (var file in Plots.Write(dir, report, log))
            {
                Console.Error.WriteLine($"  plot: {file}");
            }
        }

        return 0;
    }
}
