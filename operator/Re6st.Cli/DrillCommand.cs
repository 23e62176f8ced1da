using Re6st.Lab.Drills;

namespace Re6st.Cli;

/// <summary>`re6st drill soak`: fault-injection drills on hosts made of network namespaces. Needs root. Prints one JSON object.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class DrillCommand
{
    public const string Usage = """
        usage: re6st drill soak [--minutes M] [--hosts N] [--seed S] [--json FILE]   (root)

          soak   hosts as network namespaces with the real agent, babeld and tunnels, churning at a 10 s
                 period, pings between every pair (5 a second), and faults at random times 20 to 50 s
                 apart: two arrows of one host dying together (its underlay to two peers dropped for
                 15 s), a host leaving its underlay for 20 s and coming back. Prints JSON: minutes,
                 hosts, pingsSent, pingsLost, hostIsolationEvents (a host unreachable from all others
                 for 2 s or more), longestOutageSeconds, babeldLogLinesMax (per host per minute),
                 agentLogBytesMax, faultsInjected (and faults by kind), outages (the 20 longest runs of
                 2 lost pings or more: pair, length, start). Pings of a host that left on purpose are
                 left out from its leaving until 15 s after its return.
                 Goal over 60 minutes on 10 hosts: pingsLost/pingsSent <= 0.001, no isolation, longest
                 outage <= 2 s.
          --minutes M   how long the faults go on (default 5)
          --hosts N     hosts (default 10)
          --seed S      the random source of the mesh and of the faults (default 1)
          --json FILE   also write the JSON to FILE
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        if (args[0] != "soak")
        {
            throw new UsageException($"unknown drill '{args[0]}'");
        }

        var a = new Arguments(args[1..], new HashSet<string> { "--minutes", "--hosts", "--seed", "--json" }, new HashSet<string> { "--help" });
        if (a.Has("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            throw new UsageException("needs root: hosts are network namespaces");
        }

        var options = new SoakOptions(TimeSpan.FromMinutes(a.Number("--minutes", 5, 1, 24 * 60)), a.Number("--hosts", 10, 4, 26), a.Seed("--seed", 1));
        var logPath = Path.Combine(Path.GetTempPath(), $"re6st-drill-soak-{Environment.ProcessId}.log");
        await using var log = new StreamWriter(logPath) { AutoFlush = true };
        Console.Error.WriteLine($"re6st drill soak: details in {logPath}");
        var report = await SoakDrill.RunAsync(options, line => Console.Error.WriteLine(line), line =>
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        });
        await BenchCommand.PrintAsync(report, a);
        return 0;
    }
}
