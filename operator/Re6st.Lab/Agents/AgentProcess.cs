using System.Diagnostics;
using System.Globalization;
using Re6st.Agent.Babel;
using Re6st.Lab.Netns;

namespace Re6st.Lab.Agents;

/// <summary>
/// The real agent program (re6st-agent) for one lab host, as a process of its own: it runs in the
/// machine's namespace and drives its host's namespace (--netns), like a DaemonSet pod with host
/// networking drives its node. Its output goes to the lab's log, prefixed with the host's name.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly Action<string> _log;
    private Process _process;

    private AgentProcess(LabHost host, IReadOnlyList<string> arguments, string stateDirectory, int metricsPort, Action<string> log)
    {
        Host = host;
        Arguments = arguments;
        StateDirectory = stateDirectory;
        MetricsPort = metricsPort;
        _log = log;
        _process = Launch();
    }

    public LabHost Host { get; }

    public IReadOnlyList<string> Arguments { get; }

    public string StateDirectory { get; }

    public int MetricsPort { get; }

    public Uri Metrics => new($"http://127.0.0.1:{MetricsPort}/metrics");

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The agent's program: $RE6ST_AGENT when set (a native program, or a re6st-agent.dll run by
    /// dotnet), else the native re6st-agent that the lab's build publishes into agent/ next to it.
    /// </summary>
    public static string Program =>
        Environment.GetEnvironmentVariable("RE6ST_AGENT") is { Length: > 0 } chosen ? chosen
        : Path.Combine(Path.GetDirectoryName(typeof(AgentProcess).Assembly.Location)!, "agent", "re6st-agent") is var native && File.Exists(native) ? native
        : throw new FileNotFoundException($"no native re6st-agent at {native}: the build of Re6st.Lab publishes it (it needs clang and zlib1g-dev), or set RE6ST_AGENT");

    /// <summary>Starts the agent of <paramref name="host"/> with its plan and status in <paramref name="membershipDirectory"/>.</summary>
    public static AgentProcess Start(NetnsLab lab, LabHost host, string underlay, string membershipDirectory, string keyFile, int metricsPort) =>
        Start(lab, host, underlay, metricsPort, ["--membership-dir", membershipDirectory, "--babel-key-file", keyFile]);

    /// <summary>Starts the agent of <paramref name="host"/> with <paramref name="source"/> naming its membership source (e.g. --kubeconfig FILE --mesh M).</summary>
    /// <param name="log">Where its output goes (the lab's log when null).</param>
    public static AgentProcess Start(NetnsLab lab, LabHost host, string underlay, int metricsPort, IEnumerable<string> source, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(host);
        var state = lab.PathFor("agent-" + host.Name);
        string[] args =
        [
            "--node", host.Name, "--underlay", underlay, "--netns", host.Namespace,
            .. source,
            "--state-dir", state, "--interface-prefix", lab.RunId + host.Name, "--pool-size", "16",
            "--metrics", $"127.0.0.1:{metricsPort.ToString(CultureInfo.InvariantCulture)}",
        ];
        return new AgentProcess(host, args, state, metricsPort, log ?? lab.Log);
    }

    /// <summary>The agent crashes: SIGKILL, no cleanup; its babeld and tunnels stay behind.</summary>
    public async Task CrashAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Starts the agent again with the same arguments and <paramref name="extra"/> ones (after a crash, or a stop).</summary>
    public void Restart(params string[] extra)
    {
        if (!_process.HasExited)
        {
            throw new InvalidOperationException($"the agent of {Host.Name} still runs");
        }

        _process.Dispose();
        _process = Launch(extra);
    }

    /// <summary>Clean shutdown (SIGTERM); SIGKILL if it has not exited within <paramref name="timeout"/>. Returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            await Command.RunAsync("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)], check: false);
            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                _log($"{Host.Name}: agent did not stop within {timeout.TotalSeconds} s; killing it");
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }

        return _process.ExitCode;
    }

    /// <summary>Resident memory of the agent process (VmRSS), in MiB.</summary>
    public double ResidentMegabytes() => Kilobytes($"/proc/{_process.Id}/status", "VmRSS:") / 1024;

    /// <summary>
    /// Its proportional share (Pss), in MiB: pages shared with other processes (the .NET runtime's
    /// files, when several agents run on one machine) count for a fraction.
    /// </summary>
    public double ProportionalMegabytes() => Kilobytes($"/proc/{_process.Id}/smaps_rollup", "Pss:") / 1024;

    private static double Kilobytes(string file, string field)
    {
        var line = File.ReadLines(file).First(l => l.StartsWith(field, StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>What the host's babeld knows now, read through its control socket.</summary>
    public async Task<BabelState> BabelAsync(TimeSpan timeout)
    {
        await using var client = new BabelControlClient(Path.Combine(StateDirectory, "babeld.sock"));
        client.Start();
        return await client.WaitForAsync(s => s.Connected, timeout);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(20));
        _process.Dispose();
    }

    private Process Launch(params string[] extra)
    {
        var program = Program;
        var managed = program.EndsWith(".dll", StringComparison.Ordinal);
        var info = new ProcessStartInfo(managed ? "dotnet" : program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (managed)
        {
            info.ArgumentList.Add(program);
        }

        foreach (var a in Arguments.Concat(extra))
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start re6st-agent");
        var name = Host.Name;
        process.OutputDataReceived += (_, e) => Forward(name, e.Data);
        process.ErrorDataReceived += (_, e) => Forward(name, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Forward(string name, string? line)
    {
        if (line is not null)
        {
            _log($"agent {name}: {line}");
        }
    }
}
