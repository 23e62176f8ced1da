using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Re6st.Agent.Babel;
using Re6st.Agent.Host;
using Re6st.Core.Policy;

namespace Re6st.Agent.Tunnels;

/// <summary>
/// OpenVPN arrows: one foreground openvpn process per arrow, point-to-point over UDP on the IPv6
/// underlay, TLS between self-signed certificates pinned by fingerprint. Its TUN device lives exactly
/// as long as the process, and carries only the link-local address Babel needs.
/// </summary>
public sealed partial class OpenVpnDriver : ITunnelDriver
{
    private const int LogLinesReported = 15;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly HostShell _shell;
    private readonly string _runDirectory;
    private readonly string _group;
    private readonly ConcurrentDictionary<string, Process?> _tunnels = new(StringComparer.Ordinal);

    private OpenVpnDriver(HostShell shell, OpenVpnIdentity identity, string runDirectory, string group)
    {
        _shell = shell;
        Identity = identity;
        _runDirectory = runDirectory;
        _group = group;
    }

    public TunnelTechnology Technology => TunnelTechnology.OpenVpn;

    public string Implementation => "openvpn";

    public OpenVpnIdentity Identity { get; }

    public IReadOnlyCollection<string> Interfaces => [.. _tunnels.Keys];

    /// <summary>Checks that the host has OpenVPN 2.6 or later (--peer-fingerprint, P2P cipher negotiation).</summary>
    public static async Task<OpenVpnDriver> CreateAsync(HostShell shell, OpenVpnIdentity identity, string stateDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(shell);
        ArgumentNullException.ThrowIfNull(identity);
        foreach (var (tool, package) in new[] { ("openvpn", "openvpn"), ("ss", "iproute2") })
        {
            if ((await shell.RunAsync("sh", ["-c", $"command -v {tool}"], cancellationToken: cancellationToken).ConfigureAwait(false)).ExitCode != 0)
            {
                throw new HostCommandException($"no OpenVPN arrows on this host: '{tool}' is not installed (package {package})");
            }
        }

        // openvpn --version exits with 1 after printing it.
        var version = (await shell.RunAsync("openvpn", ["--version"], cancellationToken: cancellationToken).ConfigureAwait(false)).Output;
        if (VersionLine().Match(version) is not { Success: true } m
            || new Version(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)) < new Version(2, 6))
        {
            throw new HostCommandException($"OpenVPN 2.6 or later is needed (--peer-fingerprint), found: {version.Split('\n')[0].Trim()}");
        }

        // Pid files and logs; only root reads them.
        var runDirectory = Path.Combine(stateDirectory, "openvpn");
        Directory.CreateDirectory(runDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new OpenVpnDriver(shell, identity, runDirectory, UnprivilegedGroup());
    }

    public async Task CreateAsync(TunnelSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var files = FilesOf(spec.Interface);

        // Built first: a bad spec (name, fingerprint) changes nothing.
        var args = OpenVpnArguments.For(spec, Identity, files);
        if (_tunnels.ContainsKey(spec.Interface) || await ExistsAsync(spec.Interface, cancellationToken).ConfigureAwait(false))
        {
            await DeleteAsync(spec.Interface, cancellationToken).ConfigureAwait(false);
        }

        // Redirected only until openvpn's --log takes over stdout and stderr (right after the
        // options are parsed): option errors end up here, and the pipes close long before the agent
        // might go away, so openvpn never writes into a dead pipe.
        var process = _shell.Start("openvpn", args, null, redirect: true, outliveAgent: true);
        _tunnels[spec.Interface] = process;
        var earlyOutput = EarlyOutputAsync(process);
        try
        {
            await WaitUntilListeningAsync(spec, process, earlyOutput, cancellationToken).ConfigureAwait(false);
            try
            {
                // No kernel-made link-local address (a tun gets a random one when it comes up):
                // Babel must see exactly the spec's address.
                await _shell.RunCheckedAsync("ip", ["link", "set", spec.Interface, "addrgenmode", "none"], cancellationToken).ConfigureAwait(false);

                // openvpn without --ifconfig leaves the device down, and --tun-mtu does not reach it.
                await _shell.RunCheckedAsync("ip", ["link", "set", spec.Interface, "mtu", spec.Mtu.ToString(CultureInfo.InvariantCulture), "up"], cancellationToken).ConfigureAwait(false);
                await _shell.RunCheckedAsync("ip", ["-6", "addr", "add", $"{spec.LinkLocal}/64", "dev", spec.Interface, "nodad"], cancellationToken).ConfigureAwait(false);
            }
            catch (HostCommandException e) when (process.HasExited)
            {
                throw await FailureAsync(spec.Interface, $"openvpn exited with {process.ExitCode}", earlyOutput, e).ConfigureAwait(false);
            }
        }
        catch
        {
            await DeleteAsync(spec.Interface, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the arrow's openvpn (SIGTERM, then SIGKILL) and makes sure its device is gone.</summary>
    public async Task DeleteAsync(string interfaceName, CancellationToken cancellationToken, bool deviceReplaced = false)
    {
        var files = FilesOf(interfaceName);
        _tunnels.TryRemove(interfaceName, out var process);
        if (process is not null)
        {
            await StopAsync(process, cancellationToken).ConfigureAwait(false);
            process.Dispose();
        }

        // An adopted tunnel, or one an earlier run left behind, is found through its pid file.
        if (OwnerOf(interfaceName, files.PidFile) is { } pid)
        {
            await StopAsync(pid, interfaceName, cancellationToken).ConfigureAwait(false);
        }

        // The device goes with its process; this removes one that did not.
        if (!deviceReplaced)
        {
            await _shell.RunAsync("ip", ["link", "del", interfaceName], cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        // CAVEAT: openvpn cannot remove its own pid file once it has dropped root.
        File.Delete(files.PidFile);
        File.Delete(files.LogFile);
    }

    /// <summary>
    /// Takes over arrow interfaces left by a previous run of the agent: those whose openvpn still runs
    /// (an OpenVPN device never outlives its process, so there is nothing else to take over).
    /// </summary>
    /// <param name="accept">Which of the prefix's interfaces are arrows (null: all).</param>
    public async Task<IReadOnlyList<string>> AdoptAsync(string prefix, CancellationToken cancellationToken, Func<string, bool>? accept = null)
    {
        var output = await _shell.RunCheckedAsync("ip", ["-o", "link", "show"], cancellationToken).ConfigureAwait(false);
        var adopted = new List<string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(':', 3)[1].Trim().Split('@')[0];
            if (name.StartsWith(prefix, StringComparison.Ordinal)
                && accept?.Invoke(name) != false
                && OpenVpnArguments.IsValidInterfaceName(name)
                && OwnerOf(name, FilesOf(name).PidFile) is not null
                && _tunnels.TryAdd(name, null))
            {
                adopted.Add(name);
            }
        }

        return adopted;
    }

    /// <summary>Removes every arrow interface of this driver (clean shutdown leaves nothing behind).</summary>
    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        foreach (var name in _tunnels.Keys.ToList())
        {
            await DeleteAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The last lines openvpn logged for an arrow (handshakes, verification failures).</summary>
    public async Task<IReadOnlyList<string>> LastLogLinesAsync(string interfaceName, int count, CancellationToken cancellationToken)
    {
        try
        {
            var lines = await File.ReadAllLinesAsync(FilesOf(interfaceName).LogFile, cancellationToken).ConfigureAwait(false);
            return [.. lines.Where(l => l.Length > 0).TakeLast(count)];
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
    }

    /// <summary>Leaves the tunnels up: an agent restart adopts them instead of cutting traffic.</summary>
    public ValueTask DisposeAsync()
    {
        foreach (var p in _tunnels.Values)
        {
            p?.Dispose();
        }

        _tunnels.Clear();
        return ValueTask.CompletedTask;
    }

    /// <summary>Debian calls the unprivileged group "nogroup", most others "nobody".</summary>
    private static string UnprivilegedGroup() =>
        File.Exists("/etc/group") && File.ReadLines("/etc/group").Any(l => l.StartsWith("nogroup:", StringComparison.Ordinal)) ? "nogroup" : "nobody";

    /// <summary>What openvpn wrote before its log took over stdout and stderr.</summary>
    private static async Task<string> EarlyOutputAsync(Process process)
    {
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            return ((await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false))).Trim();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            return "";
        }
    }

    /// <summary>
    /// The pid in the arrow's pid file when that process is alive and is the arrow's openvpn (a pid
    /// may have been reused since the file was written).
    /// </summary>
    private static int? OwnerOf(string interfaceName, string pidFile)
    {
        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && IsOpenVpnOf(pid, interfaceName)
                ? pid
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A zombie has an empty command line, so an exited openvpn never counts as running.</summary>
    private static bool IsOpenVpnOf(int pid, string interfaceName)
    {
        try
        {
            var argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            if (argv.Length == 0 || Path.GetFileName(argv[0]) != "openvpn")
            {
                return false;
            }

            for (var i = 0; i + 1 < argv.Length; i++)
            {
                if (argv[i] == "--dev" && argv[i + 1] == interfaceName)
                {
                    return true;
                }
            }

            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static async Task StopAsync(Process process, CancellationToken cancellationToken)
    {
        // The Process object has not reaped the child before HasExited turns true, so the PID
        // cannot belong to another process when the signal is sent.
        if (process.HasExited || !PosixSignals.Send(process.Id, PosixSignals.SigTerm))
        {
            return;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(StopTimeout);
        try
        {
            await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(StopTimeout);
        }
    }

    /// <summary>The same for a process this driver did not start (no Process object, no exit notification).</summary>
    private static async Task StopAsync(int pid, string interfaceName, CancellationToken cancellationToken)
    {
        PosixSignals.Send(pid, PosixSignals.SigTerm);
        if (await ExitedAsync(pid, interfaceName, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // Exited meanwhile.
        }

        if (!await ExitedAsync(pid, interfaceName, cancellationToken).ConfigureAwait(false))
        {
            throw new HostCommandException($"openvpn {interfaceName} (pid {pid}) survived SIGKILL");
        }
    }

    private static async Task<bool> ExitedAsync(int pid, string interfaceName, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (IsOpenVpnOf(pid, interfaceName))
        {
            if (clock.Elapsed > StopTimeout)
            {
                return false;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// CAVEAT: openvpn opens the TUN device before it binds its UDP port, and exits when the bind
    /// fails (port taken): a device alone does not mean the arrow works. Waits for both.
    /// </summary>
    private async Task WaitUntilListeningAsync(TunnelSpec spec, Process process, Task<string> earlyOutput, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var device = false;
        while (clock.Elapsed < StartTimeout)
        {
            if (process.HasExited)
            {
                throw await FailureAsync(spec.Interface, $"openvpn exited with {process.ExitCode} before the tunnel was up", earlyOutput, null).ConfigureAwait(false);
            }

            device = device || await ExistsAsync(spec.Interface, cancellationToken).ConfigureAwait(false);
            if (device && await ListensAsync(spec.ListenPort, process.Id, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        var what = device ? $"not listening on UDP port {spec.ListenPort}" : "no interface";
        throw await FailureAsync(spec.Interface, $"{what} after {StartTimeout.TotalSeconds:0} s", earlyOutput, null).ConfigureAwait(false);
    }

    private async Task<bool> ListensAsync(int port, int pid, CancellationToken cancellationToken)
    {
        var result = await _shell.RunAsync("ss", ["-H", "-u", "-l", "-n", "-p", "sport", "=", $":{port}"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0 && result.Output.Contains($"pid={pid},", StringComparison.Ordinal);
    }

    /// <summary>An error that carries openvpn's own words: what it printed before its log, then the log's last lines.</summary>
    private async Task<HostCommandException> FailureAsync(string interfaceName, string reason, Task<string> earlyOutput, Exception? inner)
    {
        var lines = new List<string>();
        try
        {
            // Complete once openvpn has exited or its log has taken over; the pipe may lag the exit a little.
            lines.AddRange((await earlyOutput.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        catch (TimeoutException)
        {
            // Still starting: its log says more.
        }

        lines.AddRange(await LastLogLinesAsync(interfaceName, LogLinesReported, CancellationToken.None).ConfigureAwait(false));
        var message = $"openvpn {interfaceName}: {reason}; its last lines:\n{string.Join('\n', lines.TakeLast(LogLinesReported))}";
        return inner is null ? new HostCommandException(message) : new HostCommandException(message, inner);
    }

    private OpenVpnProcessFiles FilesOf(string interfaceName) =>
        OpenVpnArguments.IsValidInterfaceName(interfaceName)
            ? new OpenVpnProcessFiles(Path.Combine(_runDirectory, interfaceName + ".pid"), Path.Combine(_runDirectory, interfaceName + ".log"), _group)
            : throw new ArgumentException($"'{interfaceName}' is not an interface name (1 to 15 of A-Z a-z 0-9 _ -)", nameof(interfaceName));

    private async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken) =>
        (await _shell.RunAsync("ip", ["link", "show", name], cancellationToken: cancellationToken).ConfigureAwait(false)).ExitCode == 0;

    [GeneratedRegex(@"^OpenVPN (\d+)\.(\d+)")]
    private static partial Regex VersionLine();
}
