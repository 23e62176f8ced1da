using System.Diagnostics;
using System.Globalization;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;

namespace Re6st.Lab.Drills;

/// <summary>
/// The soak drill: hosts as network namespaces with the real agent, babeld and tunnels, churning at
/// a 10 s period, with pings between every pair of hosts, while faults are injected at random
/// times. What it measures is whether any host falls off the mesh.
/// </summary>
/// <remarks>
/// Faults injected (drawn at random, one at a time, 20 to 50 s apart):
/// <list type="bullet">
/// <item><c>arrows-die-together</c>: a host loses the underlay to two of its arrows' peers at once
/// (nft drop, 15 s): several arrows of one host dying within a second, the sequence after which
/// babeld used to loop on HMAC. The host must stay reachable over its other arrows.</item>
/// <item><c>host-leaves-and-returns</c>: a host loses its whole underlay for 20 s, then gets it back;
/// its own pairs are left out of the figures from the fault until 15 s after its return.</item>
/// </list>
/// Not injected yet (they need the cluster lab, where Nodes and agents are Kubernetes objects): label
/// changes that flip technology rules, and agent restarts.
/// </remarks>
public static class SoakDrill
{
    private const string FaultTable = "r6drill";

    /// <summary>How many of the longest outages (2 pings lost in a row or more) the report lists, in time order.</summary>
    private const int MaxOutagesReported = 20;

    public static async Task<SoakReport> RunAsync(SoakOptions options, Action<string> progress, Action<string> log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        var clock = Stopwatch.StartNew();
        void Step(string what) => progress($"[{clock.Elapsed.TotalSeconds,7:F1}s] {what}");
        var random = new Xoshiro256StarStar(options.Seed);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "10s", MaxDrain = "2m" };

        await using var lab = await NetnsLab.CreateAsync(log);
        Step($"{options.Hosts} hosts, churn every 10 s, lab {lab.RunId}");
        await using var mesh = await AgentMesh.StartAsync(lab, options.Hosts, policy, options.Seed);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(120));
        var hosts = mesh.Hosts;
        Step("converged; pings between every pair start");

        var pace = TimeSpan.FromMilliseconds(200);
        var pairs = new List<(LabHost A, LabHost B, ContinuousPing Ping)>();
        foreach (var (a, i) in hosts.Select((h, i) => (h, i)))
        {
            foreach (var b in hosts.Skip(i + 1))
            {
                pairs.Add((a, b, ContinuousPing.Start(a, b, pace)));
            }
        }

        var faults = new List<Fault>();
        var samples = new Dictionary<string, List<(TimeSpan At, long BabeldLines, long LoggedBytes)>>(StringComparer.Ordinal);
        void Sample()
        {
            foreach (var agent in mesh.Agents)
            {
                if (!samples.TryGetValue(agent.Node, out var list))
                {
                    samples[agent.Node] = list = [];
                }

                list.Add((clock.Elapsed, agent.BabeldLines, agent.LoggedBytes));
            }
        }

        var started = DateTime.UtcNow;
        var end = started + options.Duration;
        Sample();
        var nextSample = clock.Elapsed + TimeSpan.FromMinutes(1);
        var routesSaid = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            while (DateTime.UtcNow < end)
            {
                var wait = TimeSpan.FromSeconds(20 + random.NextInt(31));
                var until = DateTime.UtcNow + wait;
                while (DateTime.UtcNow < until && DateTime.UtcNow < end)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                    LogRoutes(mesh, hosts, routesSaid);
                    if (clock.Elapsed >= nextSample)
                    {
                        Sample();
                        nextSample += TimeSpan.FromMinutes(1);
                    }
                }

                if (end - DateTime.UtcNow < TimeSpan.FromSeconds(25))
                {
                    break;
                }

                var fault = random.NextInt(2) == 0
                    ? await ArrowsDieTogetherAsync(mesh, random)
                    : await HostLeavesAndReturnsAsync(mesh, random);
                if (fault is not null)
                {
                    faults.Add(fault);
                    Step(fault.ToString());
                }
            }

            // A last stretch without a fault, so that the last one's recovery is measured too.
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
        }
        finally
        {
            foreach (var (a, b, ping) in pairs)
            {
                await ping.StopAsync();
            }
        }

        Sample();
        Step("pings stopped; counting");
        var report = Measure(options, hosts, pairs.Select(p => (p.A, p.B, p.Ping.Record())).ToList(), faults, samples, pace, clock.Elapsed);
        foreach (var (_, _, ping) in pairs)
        {
            await ping.DisposeAsync();
        }

        return report;
    }

    private static SoakReport Measure(
        SoakOptions options,
        IReadOnlyList<LabHost> hosts,
        List<(LabHost A, LabHost B, PingRecord Record)> pairs,
        List<Fault> faults,
        Dictionary<string, List<(TimeSpan At, long BabeldLines, long LoggedBytes)>> samples,
        TimeSpan pace,
        TimeSpan elapsed)
    {
        // A ping is left out when one of its ends was cut off on purpose (from the fault until 15 s
        // after it ended: the time to be found again and routed).
        bool Excused(LabHost host, DateTime at) =>
            faults.Any(f => f.Kind == "host-leaves-and-returns" && f.Host == host.Name && at >= f.Start && at < f.End + TimeSpan.FromSeconds(15));

        long sent = 0, lost = 0;
        var longest = TimeSpan.Zero;
        var longestWhere = "";
        var outages = new List<(DateTime From, TimeSpan Length, string Pair)>();
        var answeredAt = hosts.ToDictionary(h => h.Name, _ => new List<(DateTime From, bool Answered)>(), StringComparer.Ordinal);
        foreach (var (a, b, (count, answered, sentAt)) in pairs)
        {
            var pair = $"{a.Name}-{b.Name}";
            var run = 0;
            var runFrom = DateTime.MinValue;
            for (var seq = 1; seq <= count; seq++)
            {
                var at = sentAt[seq - 1];
                var ok = answered.Contains(seq);
                if (Excused(a, at) || Excused(b, at))
                {
                    End();
                    continue;
                }

                sent++;
                if (ok)
                {
                    End();
                }
                else
                {
                    lost++;
                    runFrom = run == 0 ? at : runFrom;
                    run++;
                    if (run * pace > longest)
                    {
                        longest = run * pace;
                        longestWhere = string.Create(CultureInfo.InvariantCulture, $"{pair} from {runFrom:HH:mm:ss.f} UTC");
                    }
                }

                answeredAt[a.Name].Add((at, ok));
                answeredAt[b.Name].Add((at, ok));
            }

            End();

            // A run of 2 lost pings or more that ends here is an outage of the report's list.
            void End()
            {
                if (run >= 2)
                {
                    outages.Add((runFrom, run * pace, pair));
                }

                run = 0;
            }
        }

        // A host is isolated while none of its pings with any other host is answered, for 2 s or more.
        var isolations = 0;
        var longestIsolation = TimeSpan.Zero;
        var longestIsolated = "";
        var origin = pairs.Where(p => p.Record.Sent > 0).Select(p => p.Record.SentAt[0]).DefaultIfEmpty().Min();
        foreach (var (host, points) in answeredAt)
        {
            var slots = points.GroupBy(p => (p.From.Ticks - origin.Ticks) / pace.Ticks)
                .OrderBy(g => g.Key)
                .Select(g => (Slot: g.Key, Any: g.Any(p => p.Answered)))
                .ToList();
            var dark = 0L;
            var last = long.MinValue;
            foreach (var (slot, any) in slots)
            {
                dark = !any && slot == last + 1 ? dark + 1 : !any ? 1 : 0;
                last = slot;
                if (dark * pace.Ticks == TimeSpan.FromSeconds(2).Ticks)
                {
                    isolations++;
                }

                if (dark * pace > longestIsolation)
                {
                    longestIsolation = dark * pace;
                    longestIsolated = host;
                }
            }
        }

        double PerMinute(List<(TimeSpan At, long BabeldLines, long LoggedBytes)> s, Func<(TimeSpan At, long BabeldLines, long LoggedBytes), long> value) =>
            s.Zip(s.Skip(1)).Select(p => (value(p.Second) - value(p.First)) / Math.Max((p.Second.At - p.First.At).TotalMinutes, 1.0 / 60)).DefaultIfEmpty(0).Max();

        return new SoakReport(
            Minutes: Math.Round(options.Duration.TotalMinutes, 2),
            Hosts: hosts.Count,
            PingsSent: sent,
            PingsLost: lost,
            HostIsolationEvents: isolations,
            LongestIsolationSeconds: Math.Round(longestIsolation.TotalSeconds, 2),
            LongestIsolated: longestIsolated,
            LongestOutageSeconds: Math.Round(longest.TotalSeconds, 2),
            LongestOutage: longestWhere,
            BabeldLogLinesMax: Math.Round(samples.Values.Select(s => PerMinute(s, x => x.BabeldLines)).DefaultIfEmpty(0).Max(), 1),
            AgentLogBytesMax: samples.Values.Select(s => s[^1].LoggedBytes).DefaultIfEmpty(0).Max(),
            FaultsInjected: faults.Count,
            Faults: faults.GroupBy(f => f.Kind).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            Outages: [.. outages.OrderByDescending(o => o.Length).Take(MaxOutagesReported).OrderBy(o => o.From)
                .Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.Pair} {o.Length.TotalSeconds:0.0} s from {o.From:HH:mm:ss.f} UTC"))],
            ElapsedSeconds: Math.Round(elapsed.TotalSeconds, 1));
    }

    /// <summary>
    /// Writes to the log, when it changed, the route each host uses to every other host's prefix:
    /// the peer whose arrow carries it ("~" when that arrow drains), its metric, or "none". An
    /// outage can then be read back.
    /// </summary>
    private static void LogRoutes(AgentMesh mesh, IReadOnlyList<LabHost> hosts, Dictionary<string, string> said)
    {
        foreach (var agent in mesh.Agents)
        {
            var peers = agent.Arrows.ToDictionary(a => a.Interface, a => a.Peer + (a.State == Core.Arrows.ArrowState.Draining ? "~" : ""), StringComparer.Ordinal);
            var line = string.Join(" ", hosts.Where(h => h.Name != agent.Node).Select(h =>
                agent.Babel.InstalledRouteTo(h.Ipv6Prefix) is { Carries: true } r
                    ? string.Create(CultureInfo.InvariantCulture, $"{h.Name}={peers.GetValueOrDefault(r.Interface, r.Interface)}/{r.Metric}")
                    : $"{h.Name}=none"));
            if (!said.TryGetValue(agent.Node, out var before) || before != line)
            {
                said[agent.Node] = line;
                mesh.Lab.Log($"routes of {agent.Node}: {line}");
            }
        }
    }

    /// <summary>A host loses the underlay to two of its arrows' peers at once, for 15 s.</summary>
    private static async Task<Fault?> ArrowsDieTogetherAsync(AgentMesh mesh, IRandomSource random)
    {
        var candidates = mesh.Agents.Where(a => a.Arrows.Select(x => x.Peer).Distinct().Count() >= 3).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        var agent = candidates[random.NextInt(candidates.Count)];
        var peers = agent.Arrows.Select(x => x.Peer).Distinct().Order(StringComparer.Ordinal).ToList();
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(peers));
        string[] cut = [.. peers.Take(2)];
        var host = mesh.Host(agent.Node);
        var addresses = string.Join(", ", cut.Select(p => AgentMesh.UnderlayAddress(mesh.Host(p)).ToString()));
        var fault = new Fault("arrows-die-together", agent.Node, DateTime.UtcNow, DateTime.UtcNow + TimeSpan.FromSeconds(15), cut);
        await DropAsync(mesh, host, $"ip6 daddr {{ {addresses} }} drop", $"ip6 saddr {{ {addresses} }} drop");
        _ = RestoreLaterAsync(mesh, host, TimeSpan.FromSeconds(15));
        return fault;
    }

    /// <summary>A host loses its whole underlay for 20 s, then gets it back.</summary>
    private static async Task<Fault?> HostLeavesAndReturnsAsync(AgentMesh mesh, IRandomSource random)
    {
        var host = mesh.Hosts[random.NextInt(mesh.Hosts.Count)];
        var underlay = mesh.UnderlayInterface(host);
        var fault = new Fault("host-leaves-and-returns", host.Name, DateTime.UtcNow, DateTime.UtcNow + TimeSpan.FromSeconds(20), []);
        await DropAsync(mesh, host, $"oifname \"{underlay}\" drop", $"iifname \"{underlay}\" drop");
        _ = RestoreLaterAsync(mesh, host, TimeSpan.FromSeconds(20));
        return fault;
    }

    private static async Task DropAsync(AgentMesh mesh, LabHost host, string output, string input)
    {
        var file = mesh.Lab.PathFor($"drill-{host.Name}.nft");
        await File.WriteAllTextAsync(file, $$"""
            table inet {{FaultTable}} {
              chain output { type filter hook output priority 0; {{output}}; }
              chain input { type filter hook input priority 0; {{input}}; }
            }
            """);
        await mesh.Lab.InAsync(host, "nft", "-f", file);
    }

    private static async Task RestoreLaterAsync(AgentMesh mesh, LabHost host, TimeSpan after)
    {
        await Task.Delay(after);
        await Command.RunAsync("ip", ["netns", "exec", host.Namespace, "nft", "delete", "table", "inet", FaultTable], check: false);
    }

    private sealed record Fault(string Kind, string Host, DateTime Start, DateTime End, IReadOnlyList<string> Peers)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"fault: {Kind} on {Host}{(Peers.Count > 0 ? $" (from {string.Join(" and ", Peers)})" : "")} for {(End - Start).TotalSeconds:0} s");
    }
}

public sealed record SoakOptions(TimeSpan Duration, int Hosts, ulong Seed);

/// <summary>The drill's figures (printed as JSON, camelCase).</summary>
public sealed record SoakReport(
    double Minutes,
    int Hosts,
    long PingsSent,
    long PingsLost,
    int HostIsolationEvents,
    double LongestIsolationSeconds,
    string LongestIsolated,
    double LongestOutageSeconds,
    string LongestOutage,
    double BabeldLogLinesMax,
    long AgentLogBytesMax,
    int FaultsInjected,
    IReadOnlyDictionary<string, int> Faults,
    IReadOnlyList<string> Outages,
    double ElapsedSeconds)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{PingsLost} of {PingsSent} pings lost between {Hosts} hosts in {Minutes} min; {HostIsolationEvents} isolation(s) of 2 s or more (longest {LongestIsolationSeconds} s, {LongestIsolated}); longest outage {LongestOutageSeconds} s ({LongestOutage}); babeld {BabeldLogLinesMax} lines a minute at most; agent log {AgentLogBytesMax} bytes at most; faults: {string.Join(", ", Faults.Select(f => $"{f.Key} x{f.Value}"))}; outages of 0.4 s or more: {string.Join("; ", Outages)}");
}
