using Re6st.Core.Validation;

namespace Re6st.Cli;

/// <summary>The <c>re6st</c> program's commands: each one, and each of their sub-commands, answers <c>--help</c>.</summary>
public static class Re6stCommand
{
    public const string Usage = """
        usage: re6st <command> [arguments]

          sim     simulate a mesh of N nodes with the core's own policy code (re6st sim --help)
          lab     the whole system on this machine: re6st lab up | status | down (re6st lab --help)
          bench   benchmarks that print figures: operator, lab, cluster, pods (re6st bench --help)
          drill   fault-injection drills that print figures (re6st drill soak --help)
          crds    write the CRD YAML generated from the resource types (re6st crds --help)
          lint    check Mesh and RandomizationPolicy files before they are applied (re6st lint --help)
          status  a cluster's meshes, hosts and arrows, from any kubeconfig (re6st status --help)
          check   whether a cluster's re6st works, item by item; fails for scripts (re6st check --help)
          graph   a picture of a cluster's live mesh: SVG, DOT or PNG (re6st graph --help)
        """;

    /// <summary>The sub-commands of each command, for <c>--help</c> and for the tests that walk them.</summary>
    public static IReadOnlyDictionary<string, string[]> Commands { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["sim"] = [],
        ["lab"] = ["up", "status", "down"],
        ["bench"] = ["operator", "lab", "cluster", "pods"],
        ["drill"] = ["soak"],
        ["crds"] = [],
        ["lint"] = [],
        ["status"] = [],
        ["check"] = [],
        ["graph"] = [],
    };

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            return args[0] switch
            {
                "sim" => SimCommand.Run(args[1..]),
                "crds" => CrdsCommand.Run(args[1..]),
                "lint" => LintCommand.Run(args[1..]),
                "status" => await ClusterCommands.StatusAsync(args[1..]),
                "check" => await ClusterCommands.CheckAsync(args[1..]),
                "graph" => await ClusterCommands.GraphAsync(args[1..]),
                "lab" when OperatingSystem.IsLinux() => await LabCommand.RunAsync(args[1..]),
                "lab" => throw new UsageException("the lab runs hosts as network namespaces: Linux only"),
                "bench" when OperatingSystem.IsLinux() => await BenchCommand.RunAsync(args[1..]),
                "bench" => throw new UsageException("the benchmarks run a local kube-apiserver and network namespaces: Linux only"),
                "drill" when OperatingSystem.IsLinux() => await DrillCommand.RunAsync(args[1..]),
                "drill" => throw new UsageException("the drills run hosts as network namespaces: Linux only"),
                _ => throw new UsageException($"unknown command '{args[0]}'{Suggestion(args[0])}"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"re6st {args[0]}: {e.Message}");
            Console.Error.WriteLine(args[0] switch
            {
                "sim" => SimCommand.Usage,
                "lint" => LintCommand.Usage,
                "crds" => CrdsCommand.Usage,
                "status" => ClusterCommands.StatusUsage,
                "check" => ClusterCommands.CheckUsage,
                "graph" => ClusterCommands.GraphUsage,
                "bench" when OperatingSystem.IsLinux() => BenchCommand.Usage,
                "lab" when OperatingSystem.IsLinux() => LabCommand.Usage,
                "drill" when OperatingSystem.IsLinux() => DrillCommand.Usage,
                _ => Usage,
            });
            return 2;
        }
        catch (InvalidSpecException e)
        {
            Console.Error.WriteLine($"re6st {args[0]}: {e.Message}");
            return 1;
        }
    }

    /// <summary>"; did you mean 'lint'?" when a known command is one or two edits away.</summary>
    private static string Suggestion(string typed)
    {
        var nearest = Commands.Keys.Select(c => (Command: c, Distance: Distance(typed, c))).MinBy(c => c.Distance);
        return nearest.Distance <= 2 ? $"; did you mean '{nearest.Command}'?" : "";
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }

        return row[b.Length];
    }
}
