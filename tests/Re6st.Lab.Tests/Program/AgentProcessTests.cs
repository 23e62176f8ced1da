using System.Text.Json;
using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Re6st.Lab.Tests.Lifecycle;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Program;

/// <summary>The agent program itself (re6st-agent), one process per host, as a DaemonSet runs it.</summary>
public sealed class AgentProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AgentProgram_CrashAndRestart_AdoptsItsArrows_AndACleanStopLeavesNothingBehind()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var (mesh, hosts) = await FourHostsAsync(lab);
        var agents = mesh.Processes;

        // Its metrics are served where the command line said.
        var served = await Scrape.Async(agents[0].Metrics);
        Assert.True(served.Has("re6st_arrows") && served.Has("re6st_routes_installed"), served.Text);

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
            Scrape? scraped = null;
            while ((await BabeldPidsAsync(a)) is var pids && (pids.Count != 1 || pids[0] == oldBabeld[0] || (scraped = await ScrapeAsync(a)) is null
                || scraped.Value("re6st_babeld_up") != 1 || scraped.Value("re6st_arrows_adopted_total") < before.Count))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the restarted agent did not take over: babeld {string.Join(",", pids)} (was {oldBabeld[0]}), metrics {scraped?.Text}");
                await Task.Delay(250);
            }

            await EveryPairPingsAsync(mesh, hosts, TimeSpan.FromSeconds(60));
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

    [Fact]
    public async Task AgentProgram_HandsItsHostOverToItsNextRun_AndNoPingIsLost()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var (mesh, hosts) = await FourHostsAsync(lab);
        var agents = mesh.Processes;

        // The agent of a stops as a pod's does in a rolling upgrade (SIGTERM, told to hand over,
        // as --on-stop auto decides while its DaemonSet remains); its next run comes 10 s later,
        // about what a new pod takes.
        var a = agents[0];
        await a.CrashAsync();
        a.Restart("--on-stop", "hand-over");
        await TakenOverAsync(a);

        // The restart after a crash has no stand-ins: the routes towards a can take seconds to come
        // back (a fresh-clone run with the other assemblies' labs beside it saw b reach a only 4 s
        // after the new babeld started). The pings that measure the hand-over start once every
        // pair pings again.
        await EveryPairPingsAsync(mesh, hosts, TimeSpan.FromSeconds(60));
        var before = await ArrowIdsAsync(a, minimum: 2);
        var pings = new[] { ContinuousPing.Start(hosts[1], hosts[0]), ContinuousPing.Start(hosts[2], hosts[0]), ContinuousPing.Start(hosts[0], hosts[3]) };
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(0, await a.StopAsync(TimeSpan.FromSeconds(30)));
            Assert.Empty(await BabeldPidsAsync(a));
            var links = (await lab.IpAsync(a.Host, "-o", "link", "show")).Output;
            Assert.Contains($": {lab.RunId}{a.Host.Name}0", links, StringComparison.Ordinal);
            var standIns = await StandingInAsync(lab, a.Host.Name);
            output.WriteLine($"standing in for {a.Host.Name}: {string.Join(", ", standIns)}");
            Assert.NotEmpty(standIns);

            await Task.Delay(TimeSpan.FromSeconds(10));
            a.Restart();
            await TakenOverAsync(a);
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        finally
        {
            var figures = new List<PingFigures>();
            foreach (var ping in pings)
            {
                figures.Add(await ping.StopAsync());
                await ping.DisposeAsync();
            }

            var (sent, lost) = (figures.Sum(f => f.Sent), figures.Sum(f => f.Lost));
            output.WriteLine($"across the hand-over of {a.Host.Name}: {string.Join("; ", figures)}; {lost} of {sent} lost ({100.0 * lost / Math.Max(1, sent):F2} %)");
            Assert.True(sent > 600 && lost <= sent / 1000, $"the hand-over lost more than 0.1 % of the pings to and from {a.Host.Name}: {string.Join("; ", figures)}");
        }

        // Every arrow was a kernel WireGuard tunnel: the next run took them all over.
        var after = await ArrowIdsAsync(a, minimum: before.Count);
        Assert.Equal(before.Order(), after.Order());
        Assert.Empty(await StandingInAsync(lab, a.Host.Name, wantSome: false));

        foreach (var agent in agents)
        {
            Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30)));
        }

        foreach (var host in hosts)
        {
            foreach (var family in new[] { "-6", "-4" })
            {
                foreach (var proto in new[] { "42", "249", "251", "252" })
                {
                    Assert.Equal("", (await lab.InAsync(host, "ip", family, "route", "show", "proto", proto)).Output.Trim());
                }
            }
        }
    }

    /// <summary>Four hosts, each with its agent as a process of its own, two arrows each and no churn (a 10-minute period); every pair pings.</summary>
    private static async Task<(AgentMesh Mesh, List<LabHost> Hosts)> FourHostsAsync(NetnsLab lab)
    {
        var mesh = await AgentMesh.StartProcessesAsync(lab, 4, new RandomizationPolicySpec { ArrowsPerNode = 2, SmallMeshSize = 0, RefreshPeriod = "10m" });
        var hosts = lab.Hosts.Where(h => h.Name != "sw").ToList();
        await EveryPairPingsAsync(mesh, hosts, TimeSpan.FromSeconds(90));
        return (mesh, hosts);
    }

    /// <summary>Waits until the agent says it took the host over (its babeld up, nothing left of the previous run).</summary>
    private static async Task TakenOverAsync(AgentProcess agent)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        Scrape? scraped = null;
        while ((scraped = await ScrapeAsync(agent)) is null || scraped.Value("re6st_babeld_up") != 1 || scraped.Value("re6st_hand_over") != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the agent of {agent.Host.Name} did not take its host over: {scraped?.Text}");
            await Task.Delay(250);
        }
    }

    /// <summary>The peers that publish they stand in for <paramref name="host"/>, once some do (or none, with <paramref name="wantSome"/> false).</summary>
    private static async Task<List<string>> StandingInAsync(NetnsLab lab, string host, bool wantSome = true)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var peers = new List<string>();
            foreach (var file in Directory.GetFiles(Path.Combine(lab.PathFor("membership"), "status"), "*.json"))
            {
                var status = JsonDocument.Parse(await File.ReadAllTextAsync(file)).RootElement;
                if (status.TryGetProperty("standingIn", out var standing) && standing.EnumerateArray().Any(e => e.GetString() == host))
                {
                    peers.Add(Path.GetFileNameWithoutExtension(file));
                }
            }

            if (peers.Count > 0 == wantSome || DateTime.UtcNow > deadline)
            {
                return peers;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>What the agent's metrics say, or null while its endpoint does not answer.</summary>
    private static async Task<Scrape?> ScrapeAsync(AgentProcess agent)
    {
        try
        {
            return await Scrape.Async(agent.Metrics);
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

    private static async Task EveryPairPingsAsync(AgentMesh mesh, IReadOnlyList<LabHost> hosts, TimeSpan timeout)
    {
        var pairs = hosts.SelectMany(f => hosts.Where(t => t != f).Select(t => (f, t))).ToList();
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<string> failed;
        while ((failed = await mesh.PingAsync(pairs, count: 1)).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no full connectivity within {timeout.TotalSeconds} s: {string.Join(", ", failed)}");
            await Task.Delay(500);
        }
    }
}
