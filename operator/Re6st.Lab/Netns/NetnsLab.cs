using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Re6st.Agent.Babel;
using Re6st.Core.Addressing;
using Re6st.Runtime;

namespace Re6st.Lab.Netns;

/// <summary>
/// Hosts as network namespaces joined by veth links, for tests with the real babeld. Everything it
/// creates is named after <see cref="RunId"/> ("r6a" + 5 hex digits) and removed on dispose; each
/// new lab first removes what labs of dead test processes left behind (a crash, a killed run).
/// Traffic stays inside the lab's namespaces.
/// </summary>
public sealed partial class NetnsLab : IAsyncDisposable
{
    public const string Family = "r6a";

    private const string StateRoot = "/run/re6st-lab";

    /// <summary>
    /// Bulky files of a run (real nodes' images and containers) go on disk, not in /run's memory; not
    /// under /var either, which a real node replaces with its own.
    /// </summary>
    private const string DiskRoot = "/tmp/re6st-lab";

    // Labs of one test process are created in parallel; one sweep at a time.
    private static readonly SemaphoreSlim SweepTurn = new(1, 1);

    private readonly List<LabHost> _hosts = [];
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly Action<string> _log;
    private int _disposed;

    private NetnsLab(string runId, Action<string> log)
    {
        RunId = runId;
        Directory = Path.Combine(StateRoot, runId);
        _log = log;
    }

    public string RunId { get; }

    /// <summary>Configs and control sockets of this run (short: a socket path holds 107 bytes).</summary>
    public string Directory { get; }

    public IReadOnlyList<LabHost> Hosts => _hosts;

    public static async Task<NetnsLab> CreateAsync(Action<string>? output = null)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException(
                "needs root: network namespaces. These tests build hosts as network namespaces joined by veth links and run the real babeld in them; run the agent tests as root (CI does).");
        }

        foreach (var tool in new[] { "ip", "babeld", "ping", "sysctl" })
        {
            if (!CommandRunner.OnPath(tool))
            {
                throw new InvalidOperationException($"needs '{tool}' on PATH (Debian packages iproute2, babeld, iputils-ping, procps; test.sh installs them)");
            }
        }

        void Log(string line)
        {
            try
            {
                output?.Invoke($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            }
            catch (InvalidOperationException)
            {
                // Background output after the test finished has nowhere to go.
            }
        }

        await SweepTurn.WaitAsync();
        try
        {
            await SweepAsync(Log);
        }
        finally
        {
            SweepTurn.Release();
        }

        string runId;
        do
        {
            runId = Family + RandomNumberGenerator.GetHexString(5, lowercase: true);
        }
        while (System.IO.Directory.Exists(Path.Combine(StateRoot, runId)));

        var lab = new NetnsLab(runId, Log);

        // The owner file exists before anything else of the run, so a run without a live owner is
        // debris. The folder appears with its owner file in it (written aside, then renamed): a
        // sweep of another process must never see the run's folder without its owner.
        var aside = Path.Combine(StateRoot, ".new-" + runId);
        System.IO.Directory.CreateDirectory(aside);
        await File.WriteAllTextAsync(Path.Combine(aside, "owner"), OwnerLine());
        System.IO.Directory.Move(aside, lab.Directory);
        Log($"lab {runId}");
        return lab;
    }

    public void Log(string line) => _log(line);

    public string PathFor(string fileName) => Path.Combine(Directory, fileName);

    /// <summary>
    /// The run's folder on disk (<c>/tmp/re6st-lab/RUN</c>), made on first use and removed with
    /// the run, for what is too big for <see cref="Directory"/> in /run.
    /// </summary>
    public string DiskDirectory
    {
        get
        {
            var path = Path.Combine(DiskRoot, RunId);
            System.IO.Directory.CreateDirectory(path);
            return path;
        }
    }

    /// <summary>Disposed with the lab, before its namespaces go (so babeld gets its SIGTERM first).</summary>
    public T Own<T>(T resource)
        where T : IAsyncDisposable
    {
        lock (_owned)
        {
            _owned.Add(resource);
        }

        return resource;
    }

    /// <summary>
    /// A host named <paramref name="name"/> (1 to 3 lowercase letters), with its prefixes on lo: those
    /// given (a plan's), or by default prefixes that follow the host's index.
    /// </summary>
    /// <param name="announce">False for a host whose agent announces its prefixes itself (a MeshNode's): nothing is put on lo.</param>
    public async Task<LabHost> AddHostAsync(string name, IpPrefix? ipv6Prefix = null, IpPrefix? ipv4Prefix = null, bool announce = true)
    {
        if (!HostName().IsMatch(name) || _hosts.Any(h => h.Name == name))
        {
            throw new ArgumentException($"host name '{name}' must be 1 to 3 lowercase letters and unique in the lab", nameof(name));
        }

        var host = new LabHost(name, $"{RunId}-{name}", _hosts.Count + 1);
        host = host with { Ipv6Prefix = ipv6Prefix ?? host.Ipv6Prefix, Ipv4Prefix = ipv4Prefix ?? host.Ipv4Prefix };
        _hosts.Add(host);
        await Command.RunAsync("ip", ["netns", "add", host.Namespace]);

        // Lab shortcut: no duplicate address detection, so link-local addresses (and babeld on
        // them) are usable as soon as a link is up rather than 1-2 s later.
        await InAsync(host, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
        await IpAsync(host, "link", "set", "lo", "up");
        if (!announce)
        {
            return host;
        }

        await IpAsync(host, "address", "add", $"{host.Ipv6Address}/128", "dev", "lo");
        await IpAsync(host, "address", "add", $"{host.Ipv4Address}/32", "dev", "lo");
        await IpAsync(host, "route", "add", "unreachable", host.Ipv6Prefix.ToString(), "proto", "static");
        await IpAsync(host, "route", "add", "unreachable", host.Ipv4Prefix.ToString(), "proto", "static");
        return host;
    }

    /// <summary>A veth link between two hosts, up at both ends; returns the interface names at a and at b.</summary>
    public async Task<(string AtA, string AtB)> LinkAsync(LabHost a, LabHost b)
    {
        var atA = InterfaceName(a, b);
        var atB = InterfaceName(b, a);

        // Both ends are created directly in their namespaces: nothing of the lab ever sits in the
        // machine's own namespace.
        await Command.RunAsync("ip", ["link", "add", atA, "netns", a.Namespace, "type", "veth", "peer", "name", atB, "netns", b.Namespace]);
        await IpAsync(a, "link", "set", atA, "up");
        await IpAsync(b, "link", "set", atB, "up");
        return (atA, atB);
    }

    /// <summary>The name the veth towards <paramref name="peer"/> has (or will have) in <paramref name="host"/>.</summary>
    public string InterfaceName(LabHost host, LabHost peer) => $"{RunId}{host.Name}{peer.Name}";

    public Task<CommandResult> IpAsync(LabHost host, params string[] args)
    {
        ThrowIfDisposed();
        return Command.RunAsync("ip", ["-n", host.Namespace, .. args]);
    }

    public Task<CommandResult> InAsync(LabHost host, params string[] command)
    {
        ThrowIfDisposed();
        return Command.RunAsync("ip", ["netns", "exec", host.Namespace, .. command]);
    }

    /// <summary>
    /// Pings <paramref name="to"/>'s overlay address from <paramref name="from"/>'s: without -I the
    /// source would be a link-local or underlay address, and replies would not test the overlay.
    /// </summary>
    public Task<CommandResult> PingAsync(LabHost from, LabHost to, bool ipv4 = false, int count = 5)
    {
        ThrowIfDisposed();
        var (family, source, destination) = ipv4 ? ("-4", from.Ipv4Address, to.Ipv4Address) : ("-6", from.Ipv6Address, to.Ipv6Address);

        // -c, not -w: ping -w gives up at the first "unreachable".
        return Command.RunAsync(
            "ip",
            ["netns", "exec", from.Namespace, "ping", family, "-n", "-q", "-c", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", "0.2", "-W", "2", "-I", source, destination],
            TimeSpan.FromSeconds(10 + count),
            check: false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var errors = new List<string>();
        IAsyncDisposable[] owned;
        lock (_owned)
        {
            owned = [.. _owned];
        }

        foreach (var resource in owned.Reverse())
        {
            try
            {
                await resource.DisposeAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                errors.Add($"disposing {resource}: {e.Message}");
            }
        }

        await RemoveRunAsync(RunId, _log, errors);
        var left = (await NamespacesAsync()).Where(ns => ns.StartsWith(RunId, StringComparison.Ordinal)).ToList();
        if (left.Count > 0 || System.IO.Directory.Exists(Directory))
        {
            errors.Add($"left behind: namespaces [{string.Join(", ", left)}], directory {(System.IO.Directory.Exists(Directory) ? Directory : "removed")}");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"lab {RunId} cleanup failed: {string.Join("; ", errors)}");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Names of all network namespaces (ip netns list prints "name (id: N)").</summary>
    public static async Task<IReadOnlyList<string>> NamespacesAsync()
    {
        var result = await Command.RunAsync("ip", ["netns", "list"]);
        return [.. result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0])];
    }

    /// <summary>
    /// Removes the debris of earlier runs. "Earlier" is decided by the owner process, not by age:
    /// labs of a test process that is still alive (this one, or a suite running in parallel) stay.
    /// </summary>
    public static async Task SweepAsync(Action<string> log)
    {
        var runs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ns in await NamespacesAsync())
        {
            if (RunIdPrefix().Match(ns) is { Success: true } m)
            {
                runs.Add(m.Value);
            }
        }

        var folders = new[] { StateRoot, DiskRoot }.Where(System.IO.Directory.Exists).SelectMany(System.IO.Directory.GetDirectories).Select(Path.GetFileName);
        foreach (var name in folders.Concat(LabCgroups.Names()))
        {
            if (RunIdPrefix().Match(name ?? "") is { Success: true } m)
            {
                runs.Add(m.Value);
            }
        }

        foreach (var run in runs.Where(r => !OwnerAlive(r)))
        {
            log($"removing debris of lab {run}");
            var errors = new List<string>();
            await RemoveRunAsync(run, log, errors);
            if (errors.Count > 0)
            {
                // Debris has unique names and harms no run; it is reported, and the next sweep retries.
                log($"cannot remove the debris of lab {run} yet: {string.Join("; ", errors)}");
            }
        }
    }

    /// <summary>
    /// Removes what run <paramref name="runId"/> made (its namespaces with the processes in them,
    /// its state folder), whether or not its owner lives; returns what could not be removed.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RemoveRunAsync(string runId, Action<string> log)
    {
        var errors = new List<string>();
        await RemoveRunAsync(runId, log, errors);
        return errors;
    }

    private static async Task RemoveRunAsync(string runId, Action<string> log, List<string> errors)
    {
        // A real node's processes first: its containers may sit in network namespaces of their own.
        foreach (var cgroup in LabCgroups.OfRun(runId))
        {
            errors.AddRange(await LabCgroups.RemoveAsync(cgroup, log));
        }

        foreach (var ns in (await NamespacesAsync()).Where(n => n.StartsWith(runId + "-", StringComparison.Ordinal)))
        {
            try
            {
                await KillProcessesInAsync(ns, log);
                var deleted = await Command.RunAsync("ip", ["netns", "delete", ns], check: false);

                // Another test process may have swept the same debris meanwhile.
                if (!deleted.Succeeded && (await NamespacesAsync()).Contains(ns))
                {
                    errors.Add($"namespace {ns}: {deleted}");
                }
            }
            catch (TimeoutException e)
            {
                errors.Add($"namespace {ns}: {e.Message}");
            }
        }

        try
        {
            foreach (var dir in new[] { Path.Combine(StateRoot, runId), Path.Combine(DiskRoot, runId) }.Where(System.IO.Directory.Exists))
            {
                System.IO.Directory.Delete(dir, recursive: true);
            }
        }
        catch (DirectoryNotFoundException)
        {
            // Swept meanwhile.
        }
        catch (IOException e)
        {
            errors.Add(e.Message);
        }
    }

    /// <summary>Processes still running in a lab namespace were started by a lab run (babeld, ping): they go first.</summary>
    private static async Task KillProcessesInAsync(string ns, Action<string> log)
    {
        var pids = (await Command.RunAsync("ip", ["netns", "pids", ns], check: false)).Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(int.Parse);
        foreach (var pid in pids)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                log($"killing {process.ProcessName}[{pid}] left in {ns}");
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Exited meanwhile.
            }
        }
    }

    /// <summary>What a run's owner file holds: this process's PID and start time.</summary>
    public static string OwnerLine() => $"{Environment.ProcessId} {ProcessStart.Of(Environment.ProcessId)}";

    private static bool OwnerAlive(string runId)
    {
        try
        {
            var parts = File.ReadAllText(Path.Combine(StateRoot, runId, "owner")).Split(' ');
            return parts.Length == 2 && int.TryParse(parts[0], out var pid) && ProcessStart.Of(pid) == parts[1];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [GeneratedRegex("^r6a[0-9a-f]{5}")]
    private static partial Regex RunIdPrefix();

    [GeneratedRegex("^[a-z]{1,3}$")]
    private static partial Regex HostName();
}
