using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

public sealed class HostAgentTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EightHosts_OnOneUnderlay_ConvergeOverRandomArrows_AndEveryPairPings()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "10m" };
        await using (var mesh = await AgentMesh.StartAsync(lab, 8, policy, seed: 7))
        {
            await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));

            // A tunnel that fails to come up (a slow wireguard-go start under load) is retried on the next tick.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (mesh.Agents.Any(a => a.Arrows.Count(x => x.Initiated) != 3) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }

            Assert.All(mesh.Agents, a => Assert.Equal(3, a.Arrows.Count(x => x.Initiated)));
            Assert.All(mesh.Agents, a => Assert.True(a.Babel.InstalledRouteCount >= 14, $"{a.Node}: {a.Babel.InstalledRouteCount} routes"));

            var pings = mesh.Hosts.SelectMany(from => mesh.Hosts.Where(to => to != from).Select(to => (from, to))).ToList();
            var results = await Task.WhenAll(mesh.Hosts.Select(async from =>
            {
                var failed = new List<string>();
                foreach (var to in mesh.Hosts.Where(h => h != from))
                {
                    var r = await lab.PingAsync(from, to, count: 2);
                    if (r.ExitCode != 0)
                    {
                        failed.Add($"{from.Name}->{to.Name}: {r.Output.Trim()}");
                    }
                }

                return failed;
            }));
            Assert.Empty(results.SelectMany(r => r));
            Assert.Equal(56, pings.Count);

            // What Prometheus would scrape tells the same story (the mesh is steady: the period is 10 min).
            var agent = mesh.Agents[0];
            var scrape = await Scrape.Async(agent);
            foreach (var name in new[] { "re6st_arrows", "re6st_arrows_created_total", "re6st_arrows_accepted_total", "re6st_routes_installed", "re6st_arrow_routes", "re6st_arrow_cost", "re6st_arrow_rtt_seconds", "re6st_arrow_probe_up", "re6st_babeld_up", "re6st_babeld_restarts_total", "re6st_drain_duration_seconds" })
            {
                Assert.Contains($"# HELP {name} ", scrape.Text, StringComparison.Ordinal);
            }

            Assert.Equal(agent.Arrows.Count, scrape.Value("re6st_arrows", ("node", agent.Node), ("mesh", "default")));
            Assert.Equal(3, scrape.Value("re6st_arrows", ("direction", "initiated"), ("state", "active")));
            Assert.Equal(agent.Decisions.Where(d => d.Key.StartsWith("created/", StringComparison.Ordinal)).Sum(d => d.Value), scrape.Value("re6st_arrows_created_total"));
            Assert.Equal(agent.Babel.InstalledRouteCount, scrape.Value("re6st_routes_installed"));
            Assert.Equal(agent.Arrows.Count, scrape.Value("re6st_arrow_probe_up"));
            Assert.Equal(1, scrape.Value("re6st_babeld_up"));
        }

        var left = await Command.RunAsync("pgrep", ["-f", lab.RunId], check: false);
        Assert.True(left.ExitCode != 0, "processes of the lab still run after the agents stopped: " + left.Output);
    }
}
