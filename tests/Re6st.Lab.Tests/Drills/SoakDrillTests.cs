using Re6st.Lab.Drills;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Drills;

/// <summary>
/// The soak drill in short form (`./re6st drill soak --minutes 3 --hosts 6`); the hour-long figure is
/// in docs/benchmarks.md. Alone: its pings and outages are measured, and other labs would load the
/// machine under them.
/// </summary>
[Collection(nameof(SoakDrillTests))]
[CollectionDefinition(nameof(SoakDrillTests), DisableParallelization = true)]
public sealed class SoakDrillTests(ITestOutputHelper output)
{
    [Fact(Timeout = 600_000)]
    public async Task ThreeMinutesOfChurnAndFaults_NoHostFallsOffTheMesh_AndLogsStayBounded()
    {
        var report = await SoakDrill.RunAsync(new SoakOptions(TimeSpan.FromMinutes(3), Hosts: 6, Seed: 5), output.WriteLine, _ => { });
        output.WriteLine(report.ToString());

        Assert.True(report.FaultsInjected >= 3, $"only {report.FaultsInjected} faults in 3 minutes");
        Assert.True(report.PingsSent > 6_000, $"{report.PingsSent} pings");
        // A fault the hosts are not told of costs the pairs routed over the cut arrows 1 to 3 s:
        // 1 s of silence before the probes declare the arrows dead, then Babel's reconvergence; a
        // host coming back costs other pairs as much while routes through it settle. Measured: 2.2 s
        // with the machine to itself, 4.4 s once, 6.6 s once, and 7 s once (pair e-f, a fresh-clone
        // CI run). Lost: 0.55 to 1.9 % in 7 runs of seeds 5, 7 and 9 here, once pings were timed by
        // their answers (before, a drift of the pings' clock counted pings to a host that had left
        // on purpose as lost: 2.6 % in one CI run). The goals (outages of 2 s at most, 0.1 %
        // lost over an hour) need faster failover and are not asserted; these bounds catch a host
        // cut off for 15 s (that alone costs 3 % here), which no load explains.
        // The same holds for a host all of whose pings go dark at once (the report counts those of
        // 2 s or more, the definition of a host falling off): one fresh-clone CI run saw one
        // of 2 s (outage 2.6 s) under the same load, while a host cut off for 15 s is what failed.
        Assert.True(report.LongestOutageSeconds <= 9, $"longest outage {report.LongestOutageSeconds} s ({report.LongestOutage})");
        Assert.True(report.LongestIsolationSeconds <= 9, $"host {report.LongestIsolated} had no ping answered for {report.LongestIsolationSeconds} s ({report.HostIsolationEvents} isolation(s) of 2 s or more)");
        Assert.True(report.PingsLost * 40 <= report.PingsSent, $"{report.PingsLost} of {report.PingsSent} pings lost");

        // A healthy babeld writes a few lines a minute; the loop wrote hundreds of thousands a second.
        Assert.True(report.BabeldLogLinesMax < 600, $"babeld wrote {report.BabeldLogLinesMax} lines in a minute");
    }
}
