using System.CommandLine;
using Command = System.CommandLine.Command;
using System.Diagnostics;
using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;

namespace Re6st.Cli;

/// <summary>
/// `re6st bench lab`: the data-plane figures on hosts made of network namespaces, with the real
/// babeld, tunnels and agent. Needs root. Prints one JSON object.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class LabBench
{
    public static Command Create()
    {
        var hosts = CliOptions.Number("--hosts", "N", "hosts", 8, 4, 26);
        var reroutes = CliOptions.Number("--reroutes", "K", "black-hole measurements", 5, 1, 50);
        var json = CliOptions.JsonFile();
        var command = new Command("lab", """
            The data plane on namespace hosts: loss across a drained arrow, reroute time, agent memory.

            Hosts as network namespaces on one underlay switch, each with the agent, babeld and real
            tunnels (WireGuard through wireguard-go, OpenVPN). Needs root. Prints one JSON object:
              gracefulLost    packets lost (of 20/s) across an arrow in use that is drained and destroyed
              abruptLost      the same across an arrow cut at one end without a drain (the control case)
              rerouteSeconds  longest outage after an underlay path is silently black-holed (nft drop)
              agentRssMB      resident memory of the real agent processes (re6st-agent) in a converged
                              mesh (the largest; agentPssMBMean: their mean proportional share)
            """).With(hosts, reroutes, json);
        command.SetAction(async (r, token) =>
        {
            BenchCommand.NeedRoot("hosts are network namespaces");
            await BenchCommand.PrintAsync(await MeasureAsync(r.GetValue(hosts), r.GetValue(reroutes)), r.GetValue(json));
            return 0;
        });
        return command;
    }

    private static async Task<LabBenchResult> MeasureAsync(int hosts, int reroutes)
    {
        var clock = Stopwatch.StartNew();
        await using var progress = await StepProgress.StartAsync();
        void Step(string what) => progress.Step(what);
        var logPath = Path.Combine(Path.GetTempPath(), $"re6st-bench-lab-{Environment.ProcessId}.log");
        await using var log = new StreamWriter(logPath) { AutoFlush = true };
        void Log(string line)
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }

        Step($"details in {logPath}");
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "1h" };
        PingFigures graceful, abrupt;
        var outages = new List<double>();
        await using (var lab = await NetnsLab.CreateAsync(Log))
        {
            Step($"{hosts} hosts with in-process agents (lab {lab.RunId})");
            await using var mesh = await AgentMesh.StartAsync(lab, hosts, policy, seed: 1);
            await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(120));
            Step("converged; draining an arrow in use");
            (graceful, _) = await LabMeasurements.GracefulAsync(mesh, TimeSpan.FromSeconds(120));
            Step($"graceful: {graceful}; cutting one");
            abrupt = await LabMeasurements.AbruptAsync(mesh);
            Step($"abrupt: {abrupt}");
            for (var i = 0; i < reroutes; i++)
            {
                var (figures, path) = await LabMeasurements.RerouteAsync(mesh);
                outages.Add(figures.LongestOutage.TotalSeconds);
                Step($"reroute {i + 1}/{reroutes} ({path.Source.Name} -> {path.Destination.Name}): {figures}");
            }
        }

        double[] rss, pss;
        await using (var lab = await NetnsLab.CreateAsync(Log))
        {
            Step($"{hosts} hosts with the agent program (re6st-agent) as processes");
            await using var mesh = await AgentMesh.StartProcessesAsync(lab, hosts, policy);
            await WaitRoutesAsync(mesh, hosts - 1, TimeSpan.FromSeconds(120));
            await Task.Delay(TimeSpan.FromSeconds(10));
            rss = [.. mesh.Processes.Select(p => p.ResidentMegabytes())];
            pss = [.. mesh.Processes.Select(p => p.ProportionalMegabytes())];
            Step($"agent RSS: {string.Join(", ", rss.Select(r => r.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))} MB; PSS mean {pss.Average():F1} MB");
        }

        outages.Sort();
        return new LabBenchResult(
            hosts,
            graceful.Lost,
            graceful.Sent,
            abrupt.Lost,
            abrupt.Sent,
            Math.Round(abrupt.LongestOutage.TotalSeconds, 2),
            [.. outages.Select(o => Math.Round(o, 2))],
            Math.Round(outages[outages.Count / 2], 2),
            Math.Round(rss.Max(), 1),
            Math.Round(rss.Average(), 1),
            Math.Round(pss.Average(), 1),
            Math.Round(clock.Elapsed.TotalSeconds, 1));
    }

    /// <summary>Every agent process's babeld has a route to each other host.</summary>
    private static async Task WaitRoutesAsync(AgentMesh mesh, int routes, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var agent in mesh.Processes)
        {
            while ((await agent.BabelAsync(TimeSpan.FromSeconds(10))).Routes.Values.Count(r => r.Carries && r.Prefix.Family == Core.Addressing.IpFamily.V6) < routes)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"the agent of {agent.Host.Name} has not converged in {timeout.TotalSeconds} s");
                }

                await Task.Delay(500);
            }
        }
    }
}

public sealed record LabBenchResult(
    int Hosts,
    int GracefulLost,
    int GracefulSent,
    int AbruptLost,
    int AbruptSent,
    double AbruptOutageSeconds,
    IReadOnlyList<double> RerouteSeconds,
    double RerouteSecondsMedian,
    double AgentRssMB,
    double AgentRssMBMean,
    double AgentPssMBMean,
    double Seconds);
