using System.ComponentModel;
using System.Diagnostics;
using System.Net.Sockets;
using Re6st.Agent.Host;

namespace Re6st.Agent.Babel;

/// <summary>
/// Runs babeld and keeps it running: a crash is followed by a restart after a delay that doubles
/// with each short run (bounded by <see cref="BabeldOptions.MaxRestartDelay"/>). Stopping sends
/// SIGTERM, so babeld retracts its routes, then SIGKILL after the stop timeout.
/// </summary>
/// <remarks>
/// CAVEAT: no PR_SET_PDEATHSIG: Linux sends it when the forking thread exits, and .NET forks from
/// whichever pool thread called Process.Start, so babeld would die at random. In a pod the
/// container's PID namespace takes babeld down with the agent; elsewhere Dispose must run.
/// </remarks>
public sealed class BabeldProcess : IAsyncDisposable
{
    private const int ErrorLinesKept = 20;

    private readonly BabeldOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private volatile bool _silent;
    private Task? _supervisor;
    private Process? _current;
    private int _restarts;
    private int _runaways;
    private long _lines;
    private readonly RepeatedLineFilter _output;

    public BabeldProcess(BabeldOptions options, TimeProvider? time = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.ConfigPath);
        _options = options;
        _time = time ?? TimeProvider.System;
        _log = log ?? (_ => { });
        _output = new RepeatedLineFilter(_log, _time);
    }

    /// <summary>Raised with the PID of each babeld started (the first and every restart).</summary>
    public event Action<int>? Started;

    public event Action<BabeldExit>? Exited;

    /// <summary>
    /// Raised when babeld writes more than <see cref="BabeldOptions.RunawayLinesPerSecond"/> lines in a
    /// second: it is stopped, and the supervision starts it again (the tunnels stay).
    /// </summary>
    public event Action<int>? Runaway;

    /// <summary>Runaway babelds stopped so far (re6st_babeld_runaway_restarts_total).</summary>
    public int Runaways => Volatile.Read(ref _runaways);

    /// <summary>Lines babeld wrote, every run together (before repeats are left out).</summary>
    public long Lines => Interlocked.Read(ref _lines);

    /// <summary>babeld's output lines left out as repeats (re6st_log_lines_suppressed_total{source="babeld"}).</summary>
    public long SuppressedLines => _output.Suppressed;

    /// <summary>This supervision's figures, for the metrics (a new plan replaces the supervision; its owner adds them up).</summary>
    public BabeldCounts Counts => new(Restarts, Runaways, Lines, SuppressedLines);

    /// <summary>Starts after the first one (for the re6st_babeld_restarts_total metric).</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>The running babeld's PID, or null between a crash and the restart.</summary>
    public int? ProcessId
    {
        get
        {
            lock (_gate)
            {
                return _current?.Id;
            }
        }
    }

    /// <summary>
    /// Stops the running babeld (SIGSTOP) until the result is disposed (SIGCONT), so that it sees
    /// the interfaces only as they are after a change made meanwhile, never halfway through it
    /// (see <see cref="InterfaceTombstones"/>). Nothing to stop between a crash and the restart.
    /// </summary>
    public IDisposable Freeze()
    {
        int? pid;
        lock (_gate)
        {
            pid = _current is { HasExited: false } current ? current.Id : null;
        }

        return pid is { } id && PosixSignals.Send(id, PosixSignals.SigStop) ? new Frozen(id) : NotFrozen.Instance;
    }

    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            if (_supervisor is not null)
            {
                throw new InvalidOperationException("babeld is already supervised");
            }

            _supervisor = Task.Run(() => SuperviseAsync(_stop.Token));
        }
    }

    /// <summary>Stops babeld (SIGTERM, then SIGKILL after the stop timeout) and the supervision; idempotent.</summary>
    public Task StopAsync() => StopAsync(silently: false);

    /// <summary>
    /// Stops babeld with SIGKILL: it retracts nothing, and the routes it installed stay in the
    /// kernel. This is how an agent hands its host over to its next run (<see cref="Lifecycle.HandOver"/>):
    /// peers keep the host's routes through their stand-ins, and the host keeps forwarding by the
    /// routes it had until the next babeld replaces them.
    /// </summary>
    public Task AbandonAsync() => StopAsync(silently: true);

    private async Task StopAsync(bool silently)
    {
        Task? supervisor;
        lock (_gate)
        {
            supervisor = _supervisor;
            _silent |= silently;
            if (!_stop.IsCancellationRequested)
            {
                _stop.Cancel();
            }
        }

        if (supervisor is not null)
        {
            await supervisor.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _output.Dispose();
        _stop.Dispose();
    }

    private async Task SuperviseAsync(CancellationToken stop)
    {
        var failures = 0;
        var first = true;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (!first)
                {
                    Interlocked.Increment(ref _restarts);
                }

                first = false;
                TimeSpan ran;
                try
                {
                    ran = await RunOnceAsync(stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    // Supervision outlives any single failure; it is the one thing that must not stop.
                    _log($"babeld: run failed: {e}");
                    ran = TimeSpan.Zero;
                }

                if (stop.IsCancellationRequested)
                {
                    return;
                }

                failures = ran >= _options.StableRun ? 1 : failures + 1;
                var delay = _options.RestartDelay(failures);
                _log($"babeld: restarting in {delay.TotalSeconds:0.###} s");
                await Task.Delay(delay, _time, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            // Whatever went wrong above, no babeld outlives its supervisor.
            Process? left;
            lock (_gate)
            {
                left = _current;
                _current = null;
            }

            if (left is not null)
            {
                KillNow(left);
                left.Dispose();
            }
        }
    }

    /// <summary>One babeld run, until it exits or <paramref name="stop"/>; returns how long it ran.</summary>
    private async Task<TimeSpan> RunOnceAsync(CancellationToken stop)
    {
        RemoveStaleSocket();
        var errors = new Queue<string>();
        var process = Launch(errors);
        if (process is null)
        {
            return TimeSpan.Zero;
        }

        var startedAt = _time.GetTimestamp();
        lock (_gate)
        {
            _current = process;
        }

        var pid = process.Id;
        _log($"babeld[{pid}]: started{(_options.NetworkNamespace is { } ns ? $" in network namespace {ns}" : string.Empty)} with {_options.ConfigPath}");
        Raise(() => Started?.Invoke(pid));
        try
        {
            await process.WaitForExitAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            if (_silent)
            {
                KillNow(process);
                _log($"babeld[{process.Id}]: killed, its routes left in place for the agent's next run");
            }
            else
            {
                await TerminateAsync(process).ConfigureAwait(false);
            }
            lock (_gate)
            {
                _current = null;
            }

            process.Dispose();
            return _time.GetElapsedTime(startedAt);
        }

        var ranFor = _time.GetElapsedTime(startedAt);
        lock (_gate)
        {
            _current = null;
        }

        string[] lastErrors;
        lock (errors)
        {
            lastErrors = [.. errors];
        }

        var exit = new BabeldExit(pid, process.ExitCode, ranFor, lastErrors);
        process.Dispose();
        _log($"babeld[{pid}]: exited with code {exit.ExitCode} after {ranFor.TotalSeconds:0.#} s{(lastErrors.Length > 0 ? $"; last error: {lastErrors[^1]}" : string.Empty)}");
        Raise(() => Exited?.Invoke(exit));
        return ranFor;
    }

    private void Raise(Action raise)
    {
        try
        {
            raise();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A faulty subscriber must not end the supervision of babeld.
            _log($"babeld: an event subscriber failed: {e.Message}");
        }
    }

    private Process? Launch(Queue<string> errors)
    {
        var start = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (_options.NetworkNamespace is { } ns)
        {
            start.FileName = "ip";
            foreach (var arg in new[] { "netns", "exec", ns, _options.Executable })
            {
                start.ArgumentList.Add(arg);
            }
        }
        else
        {
            start.FileName = _options.Executable;
        }

        // Everything else is in the file; babeld logs to stderr when it does not daemonise.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(_options.ConfigPath);

        var process = new Process { StartInfo = start };
        var pid = 0;
        var rate = new LineRate(_time);
        process.ErrorDataReceived += (_, e) => OnOutput(e.Data, pid, errors, rate);
        process.OutputDataReceived += (_, e) => OnOutput(e.Data, pid, errors: null, rate);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            _log($"babeld: cannot start {start.FileName}: {e.Message}");
            process.Dispose();
            return null;
        }

        pid = process.Id;
        process.StandardInput.Close();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private void OnOutput(string? line, int pid, Queue<string>? errors, LineRate rate)
    {
        if (line is null)
        {
            return;
        }

        Interlocked.Increment(ref _lines);
        _output.Write($"babeld[{pid}]: {line}");
        if (rate.Count() == _options.RunawayLinesPerSecond + 1)
        {
            // babeld looping on an error (see InterfaceTombstones) reads no packet while it loops;
            // a new babeld starts clean, over the same tunnels.
            Interlocked.Increment(ref _runaways);
            _log($"babeld[{pid}]: runaway: more than {_options.RunawayLinesPerSecond} lines in a second (the last: {line}); stopping it, the supervision starts a new one over the same tunnels");
            PosixSignals.Send(pid, PosixSignals.SigTerm);
            Raise(() => Runaway?.Invoke(pid));
        }

        if (errors is not null)
        {
            lock (errors)
            {
                errors.Enqueue(line);
                if (errors.Count > ErrorLinesKept)
                {
                    errors.Dequeue();
                }
            }
        }
    }

    private async Task TerminateAsync(Process process)
    {
        // The Process object has not reaped the child before HasExited turns true, so the PID
        // cannot belong to another process when the signal is sent.
        if (process.HasExited || !PosixSignals.Send(process.Id, PosixSignals.SigTerm))
        {
            return;
        }

        using var timeout = new CancellationTokenSource(_options.StopTimeout, _time);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            _log($"babeld[{process.Id}]: stopped");
        }
        catch (OperationCanceledException)
        {
            _log($"babeld[{process.Id}]: still running {_options.StopTimeout.TotalSeconds:0.#} s after SIGTERM, killing it");
            KillNow(process);
        }
    }

    private void KillNow(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (Win32Exception e)
        {
            _log($"babeld[{process.Id}]: cannot kill: {e.Message}");
        }
    }

    /// <summary>
    /// CAVEAT: babeld killed without SIGTERM leaves its socket file behind, and the next babeld exits
    /// at once with "local_server_socket: Address already in use". Removed only when nobody listens.
    /// </summary>
    private void RemoveStaleSocket()
    {
        var path = _options.ControlSocketPath;
        if (path is null || !File.Exists(path))
        {
            return;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            _log($"babeld: another process serves {path}; this babeld will fail to bind it");
        }
        catch (SocketException)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log($"babeld: cannot remove the stale socket {path}: {e.Message}");
            }
        }
    }

    private sealed class Frozen(int processId) : IDisposable
    {
        private int _thawed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _thawed, 1) == 0)
            {
                PosixSignals.Send(processId, PosixSignals.SigCont);
            }
        }
    }

    /// <summary>Lines within the current second of one babeld's output.</summary>
    private sealed class LineRate(TimeProvider time)
    {
        private long _second = -1;
        private int _count;

        public int Count()
        {
            var second = time.GetUtcNow().ToUnixTimeSeconds();
            if (second != Interlocked.Exchange(ref _second, second))
            {
                Interlocked.Exchange(ref _count, 0);
            }

            return Interlocked.Increment(ref _count);
        }
    }
}
