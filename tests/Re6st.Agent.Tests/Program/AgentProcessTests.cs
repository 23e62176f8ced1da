using System.Text.Json;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Re6st.Core.Policy;
using Xunit.Abstractions;

namespace Re6st.Agent.Tests.Program;

/// <summary>The agent program itself (re6st-agent), one process per host, as a DaemonSet runs it.</summary>
public sealed class AgentProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AgentProgram_CrashAndRestart_AdoptsItsArrows_AndACleanStopLeavesNothingBehind()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 2, SmallMeshSize = 0, RefreshPeriod = "10m" };
        var mesh = await AgentMesh.StartProcessesAsync(lab, 4, policy);
        var hosts = lab.Hosts.Where(h => h.Name != "sw").ToList();
        var agents = mesh.Processes;
        await EveryPairPingsAsync(lab, hosts, TimeSpan.FromSeconds(90));

        // Its metrics are served where the command line said.
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            var text = await http.GetStringAsync(agents[0].Metrics);
            Assert.Contains("re6st_arrows{", text, StringComparison.Ordinal);
            Assert.Contains("re6st_routes_installed{", text, StringComparison.Ordinal);
        }

        // The crash: SIGKILL leaves its babeld and tunnels behind; the new process adopts the tunnels.
        var a = agents[0];
        var before = await ArrowIdsAsync(a, minimum: 2);
        var oldBabeld = await BabeldPidsAsync(a);
        Assert.Single(oldBabeld);
        await using (var ping = ContinuousPing.Start(hosts[1], hosts[0]))
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            await a.CrashAsync();
            await Task.Delay(TimeSpan.FromSeconds(1));
            a.Restart();

            // Running again: a babeld of its own in place of the orphan, and the tunnels taken over.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            Scraped? scraped = null;
            while ((await BabeldPidsAsync(a)) is var pids && (pids.Count != 1 || pids[0] == oldBabeld[0] || (scraped = await ScrapeAsync(a)) is not { BabeldUp: 1 } || scraped.Adopted < before.Count))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the restarted agent did not take over: babeld {string.Join(",", pids)} (was {oldBabeld[0]}), {scraped}");
                await Task.Delay(250);
            }

            await EveryPairPingsAsync(lab, hosts, TimeSpan.FromSeconds(60));
            var figures = await ping.StopAsync();
            output.WriteLine($"across the restart of {a.Host.Name}'s agent: {figures}");
            Assert.True(figures.Received > 0 && figures.LongestOutage < TimeSpan.FromSeconds(30), $"traffic through {a.Host.Name} did not come back: {figures}");
        }

        var after = await ArrowIdsAsync(a, minimum: before.Count);
        Assert.Equal(before.Order(), after.Order());

        // A clean stop of every agent leaves no arrow interface, no process and no announcement.
        foreach (var agent in agents)
        {
            Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30)));
        }

        var left = await Command.RunAsync("pgrep", ["-a", "-f", lab.RunId], check: false);
        Assert.True(left.ExitCode != 0, "processes of the lab still run after the agents stopped: " + left.Output);
        foreach (var host in hosts)
        {
            // Arrow interfaces are named prefix + sub-mesh + slot ("...a000"); the underlay link ("...asw") stays.
            var links = (await lab.IpAsync(host, "-o", "link", "show")).Output;
            Assert.DoesNotContain($": {lab.RunId}{host.Name}0", links, StringComparison.Ordinal);
            Assert.DoesNotContain("re6st", (await lab.InAsync(host, "nft", "list", "tables")).Output, StringComparison.Ordinal);
        }
    }

    private sealed record Scraped(double BabeldUp, double Adopted);

    /// <summary>What the agent's metrics say, or null while its endpoint does not answer.</summary>
    private static async Task<Scraped?> ScrapeAsync(AgentProcess agent)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            var lines = (await http.GetStringAsync(agent.Metrics)).Split('\n');
            double Sum(string name) => lines.Where(l => l.StartsWith(name + "{", StringComparison.Ordinal)).Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            return new Scraped(Sum("re6st_babeld_up"), Sum("re6st_arrows_adopted_total"));
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task<List<string>> BabeldPidsAsync(AgentProcess agent) =>
        [.. (await Command.RunAsync("pgrep", ["-x", "-f", $"babeld -c {agent.StateDirectory}/babeld.conf"], check: false)).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>The ids of the arrows the agent's journal lists, once it lists at least <paramref name="minimum"/>.</summary>
    private static async Task<List<string>> ArrowIdsAsync(AgentProcess agent, int minimum)
    {
        var path = Path.Combine(agent.StateDirectory, "arrows.json");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var ids = File.Exists(path)
                ? JsonDocument.Parse(await File.ReadAllTextAsync(path)).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList()
                : [];
            if (ids.Count >= minimum || DateTime.UtcNow > deadline)
            {
                return ids;
            }

            await Task.Delay(250);
        }
    }

    private static async Task EveryPairPingsAsync(NetnsLab lab, IReadOnlyList<LabHost> hosts, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        List<string> failed;
        do
        {
            var pairs = hosts.SelectMany(f => hosts.Where(t => t != f).Select(t => (f, t))).ToList();
            var results = await Task.WhenAll(pairs.Select(async p => (p, r: await lab.PingAsync(p.f, p.t, count: 1))));
            failed = [.. results.Where(x => x.r.ExitCode != 0).Select(x => $"{x.p.f.Name}->{x.p.t.Name}")];
            if (failed.Count == 0)
            {
                return;
            }

            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"no full connectivity within {timeout.TotalSeconds} s: {string.Join(", ", failed)}");
    }
}
