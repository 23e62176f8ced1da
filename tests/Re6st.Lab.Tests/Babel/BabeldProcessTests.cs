using System.Diagnostics;
using Re6st.Agent.Babel;
using Re6st.Lab.Netns;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Babel;

public sealed class BabeldProcessTests(ITestOutputHelper output)
{
    [Fact]
    public void RestartDelay_DoublesFromTheFirstDelay_AndStopsAtTheMaximum()
    {
        var options = new BabeldOptions("/etc/babeld.conf");
        var delays = Enumerable.Range(1, 9).Select(n => options.RestartDelay(n).TotalSeconds);
        Assert.Equal([0.5, 1, 2, 4, 8, 16, 30, 30, 30], delays);
        Assert.Equal(TimeSpan.FromSeconds(30), options.RestartDelay(int.MaxValue));
    }

    [Fact(Timeout = 30_000)]
    public async Task ProcessThatKeepsExiting_IsRestartedWithBackoff_AndEveryExitIsReported()
    {
        var exits = new List<BabeldExit>();
        var options = new BabeldOptions("/nonexistent.conf")
        {
            // /bin/false stands for a babeld that cannot start (bad config, busy socket): exit 1 at once.
            Executable = "/bin/false",
            FirstRestartDelay = TimeSpan.FromMilliseconds(50),
            MaxRestartDelay = TimeSpan.FromMilliseconds(200),
        };
        await using var babeld = new BabeldProcess(options, log: output.WriteLine);
        babeld.Exited += e =>
        {
            lock (exits)
            {
                exits.Add(e);
            }
        };
        var clock = Stopwatch.StartNew();
        babeld.Start();
        while (babeld.Restarts < 4 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        // Four restarts take at least 50 + 100 + 200 + 200 ms of backoff.
        Assert.True(babeld.Restarts >= 4, $"only {babeld.Restarts} restarts in {clock.Elapsed}");
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(550), $"4 restarts in {clock.Elapsed.TotalMilliseconds} ms: no backoff");
        await babeld.StopAsync();
        lock (exits)
        {
            Assert.True(exits.Count >= 4);
            Assert.All(exits, e => Assert.Equal(1, e.ExitCode));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task BabeldLoopingOnAnError_IsStoppedAsARunaway_AndRestarted_WithItsOutputKeptInBounds()
    {
        // sh -c runs the "config path" as a script that writes babeld 1.12's HMAC loop as fast as
        // it can. A stand-in: the real loop needs a race inside babeld that no test can time
        // (InterfaceTombstones explains it from babeld's source).
        var options = new BabeldOptions("while :; do echo 'add_hmac: no link-local address.' >&2; echo \"Couldn't add HMAC.\" >&2; done")
        {
            Executable = "/bin/sh",
            FirstRestartDelay = TimeSpan.FromMilliseconds(100),
        };
        var logged = 0;
        await using var babeld = new BabeldProcess(options, log: line =>
        {
            Interlocked.Increment(ref logged);
            output.WriteLine(line);
        });
        var runaways = 0;
        babeld.Runaway += _ => Interlocked.Increment(ref runaways);
        babeld.Start();
        var clock = Stopwatch.StartNew();
        while (babeld.Restarts < 2 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        await babeld.StopAsync();
        Assert.True(babeld.Restarts >= 2, $"{babeld.Restarts} restarts in {clock.Elapsed}");
        Assert.True(babeld.Runaways >= 2 && runaways == babeld.Runaways, $"{babeld.Runaways} runaways, {runaways} events");

        // Each run wrote over the limit within a second before it was stopped; the log got a
        // bounded few lines of it. (Two runs under a loaded CI machine left out 1,990 lines, so
        // the floor is what one runaway alone must have written, not two.)
        Assert.True(babeld.SuppressedLines > options.RunawayLinesPerSecond, $"{babeld.SuppressedLines} lines left out");
        Assert.True(logged < 200, $"{logged} lines logged");
    }

    [Fact(Timeout = 30_000)]
    public async Task Stop_ProcessThatIgnoresSigterm_IsKilledAfterTheStopTimeout()
    {
        // sh -c runs the "config path" as a script: a process that ignores SIGTERM (the disposition
        // survives exec), as a wedged babeld would.
        var options = new BabeldOptions("trap '' TERM; exec sleep 60")
        {
            Executable = "/bin/sh",
            StopTimeout = TimeSpan.FromMilliseconds(300),
        };
        var babeld = new BabeldProcess(options, log: output.WriteLine);
        babeld.Start();
        var pid = await WaitForPidAsync(babeld);
        await Task.Delay(200);

        var clock = Stopwatch.StartNew();
        await babeld.DisposeAsync();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stop took {clock.Elapsed}");
        Assert.False(IsAlive(pid), $"process {pid} survived Dispose");
        Assert.Equal(0, babeld.Restarts);
    }

    [Fact(Timeout = 60_000)]
    public async Task KillNine_BabeldIsRestartedOnce_RoutesComeBack_AndTheClientReconnects()
    {
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        var (ab, ba) = await lab.LinkAsync(a, b);
        var babelA = LabBabeld.Start(lab, a, LabBabeld.ConfigFor(lab, a, [new(ab)]));
        var babelB = LabBabeld.Start(lab, b, LabBabeld.ConfigFor(lab, b, [new(ba)]));
        var before = await babelA.WaitForAsync(s => s.InstalledRouteTo(b.Ipv6Prefix) is not null);
        Assert.Equal(1, before.Generation);

        var sawDisconnected = false;
        babelA.Control.StateChanged += s => sawDisconnected |= !s.Connected;
        var firstPid = babelA.Process.ProcessId!.Value;
        using (var victim = Process.GetProcessById(firstPid))
        {
            victim.Kill();
        }

        // CAVEAT exercised: the killed babeld leaves its socket file; the supervisor must remove
        // it or the new babeld exits with "Address already in use".
        var after = await babelA.WaitForAsync(s => s.Generation == 2 && s.InstalledRouteTo(b.Ipv6Prefix) is not null && s.InstalledRouteTo(b.Ipv4Prefix) is not null);
        Assert.Equal(1, babelA.Process.Restarts);
        Assert.NotEqual(firstPid, babelA.Process.ProcessId);
        Assert.True(sawDisconnected);
        Assert.NotEqual(before.RouterId, after.RouterId);
        Assert.Equal(ab, after.InstalledRouteTo(b.Ipv6Prefix)!.Interface);

        // B forgets the old router-id's routes and learns the new one's: A's prefix is still reachable.
        await babelB.WaitForAsync(s => s.InstalledRouteTo(a.Ipv6Prefix)?.RouterId == after.RouterId);
        var ping = await lab.PingAsync(a, b, count: 3);
        Assert.True(ping.Succeeded, ping.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Dispose_LeavesNoBabeldNoSocketAndNoNamespaceOfTheRun_AndBabeldRetractsItsKernelRoutes()
    {
        var lab = await NetnsLab.CreateAsync(output.WriteLine);
        int[] pids;
        string[] sockets;
        LabHost a;
        try
        {
            a = await lab.AddHostAsync("a");
            var b = await lab.AddHostAsync("b");
            var (ab, ba) = await lab.LinkAsync(a, b);
            var babelA = LabBabeld.Start(lab, a, LabBabeld.ConfigFor(lab, a, [new(ab)]));
            var babelB = LabBabeld.Start(lab, b, LabBabeld.ConfigFor(lab, b, [new(ba)]));
            await babelA.WaitForAsync(s => s.InstalledRouteTo(b.Ipv6Prefix) is not null);
            pids = [babelA.Process.ProcessId!.Value, babelB.Process.ProcessId!.Value];
            sockets = [babelA.Config.ControlSocketPath, babelB.Config.ControlSocketPath];

            // SIGTERM, not SIGKILL: babeld removes the routes it installed before exiting.
            await babelA.Process.StopAsync();
            Assert.False(IsAlive(pids[0]));
            var kernel = await lab.IpAsync(a, "route", "show", "proto", "babel");
            Assert.Equal(string.Empty, kernel.Output.Trim());
            Assert.False(File.Exists(sockets[0]), "babeld left its control socket");
        }
        finally
        {
            await lab.DisposeAsync();
        }

        Assert.All(pids, pid => Assert.False(IsAlive(pid), $"babeld {pid} survived the lab"));
        Assert.All(sockets, path => Assert.False(File.Exists(path)));
        Assert.DoesNotContain(await NetnsLab.NamespacesAsync(), ns => ns.StartsWith(lab.RunId, StringComparison.Ordinal));
        Assert.False(Directory.Exists(lab.Directory));
    }

    private static async Task<int> WaitForPidAsync(BabeldProcess babeld)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (babeld.ProcessId is { } pid)
            {
                return pid;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("the process did not start within 10 s");
    }

    private static bool IsAlive(int pid)
    {
        // A zombie has exited; only the stat line says so.
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
