using System.CommandLine;
using Re6st.Lab.Drills;

namespace Re6st.Cli;

/// <summary>`re6st drill soak`: fault-injection drills on hosts made of network namespaces. Needs root. Prints one JSON object.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class DrillCommand
{
    public static Command Create()
    {
        var minutes = CliOptions.Number("--minutes", "M", "how long the faults go on", 5, 1, 24 * 60);
        var hosts = CliOptions.Number("--hosts", "N", "hosts", 10, 4, 26);
        var seed = CliOptions.Seed("the random source of the mesh and of the faults", 1);
        var json = CliOptions.JsonFile();
        var soak = new Command("soak", """
            Hours of churn and faults on namespace hosts: what is lost, and the longest outage.

            Hosts as network namespaces with the real agent, babeld and tunnels, churning at a 10 s
            period, pings between every pair (5 a second), and faults at random times 20 to 50 s
            apart: two arrows of one host dying together (its underlay to two peers dropped for
            15 s), a host leaving its underlay for 20 s and coming back. Prints JSON: minutes,
            hosts, pingsSent, pingsLost, hostIsolationEvents (a host unreachable from all others
            for 2 s or more), longestOutageSeconds, babeldLogLinesMax (per host per minute),
            agentLogBytesMax, faultsInjected (and faults by kind), outages (the 20 longest runs of
            2 lost pings or more: pair, length, start). Pings of a host that left on purpose are
            left out from its leaving until 15 s after its return.
            Goal over 60 minutes on 10 hosts: pingsLost/pingsSent <= 0.001, no isolation, longest
            outage <= 2 s. Needs root.
            """).With(minutes, hosts, seed, json);
        soak.SetAction((r, token) => SoakAsync(new SoakOptions(TimeSpan.FromMinutes(r.GetValue(minutes)), r.GetValue(hosts), r.GetValue(seed)), r.GetValue(json)));
        return new Command("drill", "Fault-injection drills that print figures as one JSON object: soak.").With(soak);
    }

    private static async Task<int> SoakAsync(SoakOptions options, string? jsonPath)
    {
        BenchCommand.NeedRoot("hosts are network namespaces");
        var logPath = Path.Combine(Path.GetTempPath(), $"re6st-drill-soak-{Environment.ProcessId}.log");
        await using var log = new StreamWriter(logPath) { AutoFlush = true };
        Console.Error.WriteLine($"re6st drill soak: details in {logPath}");
        SoakReport report;
        await using (var progress = await StepProgress.StartAsync())
        {
            report = await SoakDrill.RunAsync(options, progress.Step, line =>
            {
                lock (log)
                {
                    log.WriteLine(line);
                }
            });
        }

        await BenchCommand.PrintAsync(report, jsonPath);
        return 0;
    }
}
