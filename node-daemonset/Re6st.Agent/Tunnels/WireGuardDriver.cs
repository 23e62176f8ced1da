using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Re6st.Agent.Host;
using Re6st.Core.Policy;

namespace Re6st.Agent.Tunnels;

/// <summary>
/// WireGuard arrows: kernel WireGuard where the kernel has it, wireguard-go (userspace) where it
/// does not. One interface per arrow with exactly one peer whose allowed IPs are everything: Babel,
/// not WireGuard, decides which arrow a packet takes.
/// </summary>
public sealed class WireGuardDriver : ITunnelDriver
{
    private readonly HostShell _shell;
    private readonly string _keyFile;
    private readonly string _stateDirectory;
    private readonly ConcurrentDictionary<string, Process?> _tunnels = new(StringComparer.Ordinal);

    private readonly Action<string>? _log;

    private WireGuardDriver(HostShell shell, string keyFile, string stateDirectory, bool kernel, Action<string>? log)
    {
        _shell = shell;
        _keyFile = keyFile;
        _stateDirectory = stateDirectory;
        IsKernel = kernel;
        _log = log;
    }

    public TunnelTechnology Technology => TunnelTechnology.WireGuard;

    public bool IsKernel { get; }

    public string Implementation => IsKernel ? "kernel" : "wireguard-go";

    public IReadOnlyCollection<string> Interfaces => [.. _tunnels.Keys];

    /// <summary>
    /// Detects what the host supports and writes the private key where only root reads it
    /// (`wg set` takes keys from files, never from the command line, which others could see).
    /// </summary>
    /// <param name="log">Where wireguard-go's own messages go (dropped when null).</param>
    public static async Task<WireGuardDriver> CreateAsync(HostShell shell, WireGuardKeys keys, string stateDirectory, CancellationToken cancellationToken, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(shell);
        ArgumentNullException.ThrowIfNull(keys);
        Directory.CreateDirectory(stateDirectory);
        var keyFile = WireGuardKeys.FileIn(stateDirectory);
        await File.WriteAllTextAsync(keyFile, keys.PrivateKey + "\n", cancellationToken).ConfigureAwait(false);
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var probe = "r6probe" + Random.Shared.Next(0x10000).ToString("x4", CultureInfo.InvariantCulture);
        var kernel = (await shell.RunAsync("ip", ["link", "add", probe, "type", "wireguard"], cancellationToken: cancellationToken).ConfigureAwait(false)).ExitCode == 0;
        if (kernel)
        {
            await shell.RunAsync("ip", ["link", "del", probe], cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        else if ((await shell.RunAsync("sh", ["-c", "command -v wireguard-go"], cancellationToken: cancellationToken).ConfigureAwait(false)).ExitCode != 0)
        {
            throw new HostCommandException("no WireGuard on this host: the kernel has no wireguard module and wireguard-go is not installed");
        }

        return new WireGuardDriver(shell, keyFile, stateDirectory, kernel, log);
    }

    public async Task CreateAsync(TunnelSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (await ExistsAsync(spec.Interface, cancellationToken).ConfigureAwait(false))
        {
            await DeleteAsync(spec.Interface, cancellationToken).ConfigureAwait(false);
        }

        Process? process = null;
        try
        {
            if (IsKernel)
            {
                await _shell.RunCheckedAsync("ip", ["link", "add", spec.Interface, "type", "wireguard"], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // CAVEAT: wireguard-go must stay in the foreground so its PID is ours to stop; its
                // UAPI socket lives in the machine-wide /var/run/wireguard, so names are machine-wide.
                // Its output goes to a file, not to a pipe of the agent: a Go program writing to a
                // broken pipe dies of SIGPIPE, and the tunnel must outlive an agent that crashed.
                process = _shell.Start("sh", ["-c", "exec wireguard-go \"$0\" >>\"$1\" 2>&1", spec.Interface, LogFile(spec.Interface)], new Dictionary<string, string> { ["WG_PROCESS_FOREGROUND"] = "1" }, redirect: false, outliveAgent: true);
                _tunnels[spec.Interface] = process;
                await WaitForInterfaceAsync(spec.Interface, process, cancellationToken).ConfigureAwait(false);
            }

            _tunnels[spec.Interface] = process;
            List<string> set =
            [
                "set", spec.Interface, "private-key", _keyFile, "listen-port", spec.ListenPort.ToString(CultureInfo.InvariantCulture),
                "peer", spec.PeerPublicKey, "allowed-ips", "::/0,0.0.0.0/0", "persistent-keepalive", "5",
            ];
            if (spec.PeerEndpoint is { } endpoint)
            {
                set.AddRange(["endpoint", endpoint.ToString()]);
            }

            await _shell.RunCheckedAsync("wg", set, cancellationToken).ConfigureAwait(false);
            await _shell.RunCheckedAsync("ip", ["link", "set", spec.Interface, "mtu", spec.Mtu.ToString(CultureInfo.InvariantCulture), "up"], cancellationToken).ConfigureAwait(false);

            // WireGuard interfaces get no link-local address of their own, and Babel speaks link-local.
            await _shell.RunCheckedAsync("ip", ["-6", "addr", "add", $"{spec.LinkLocal}/64", "dev", spec.Interface, "nodad"], cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DeleteAsync(spec.Interface, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public async Task DeleteAsync(string interfaceName, CancellationToken cancellationToken, bool deviceReplaced = false)
    {
        _tunnels.TryRemove(interfaceName, out var process);
        if (!IsKernel)
        {
            // CAVEAT: wireguard-go does not always exit when its TUN device is deleted (it goes on
            // sending handshakes); stopping the process is what removes the device. An adopted
            // tunnel's process is not ours, so it is found by its command line (names are unique).
            if (process is not null)
            {
                try
                {
                    // SIGTERM lets wireguard-go remove its UAPI socket; SIGKILL only if it lingers.
                    await _shell.RunAsync("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)], cancellationToken: cancellationToken).ConfigureAwait(false);
                    // Its device already replaced by a tombstone, it rarely exits by itself (it waited
                    // out the 2 s in lab runs, and the removal of the next dead arrow with it).
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    wait.CancelAfter(deviceReplaced ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(2));
                    await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
                {
                    _log?.Invoke($"wireguard-go {interfaceName} ignored SIGTERM: killing it");
                    await KillAsync(process).ConfigureAwait(false);
                }
                finally
                {
                    process.Dispose();
                }
            }
            else
            {
                await _shell.SignalAsync("TERM", $"wireguard-go {interfaceName}", cancellationToken).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            }

            await _shell.SignalAsync("KILL", $"wireguard-go {interfaceName}", cancellationToken).ConfigureAwait(false);
            var socket = $"/var/run/wireguard/{interfaceName}.sock";
            if (File.Exists(socket))
            {
                // Left by a process that had to be killed; a new wireguard-go of this name would trip on it.
                File.Delete(socket);
            }
        }

        if (!deviceReplaced)
        {
            await _shell.RunAsync("ip", ["link", "del", interfaceName], cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        File.Delete(LogFile(interfaceName));
    }

    /// <summary>The last lines wireguard-go logged for an arrow (handshake failures, TUN errors).</summary>
    public async Task<IReadOnlyList<string>> LastLogLinesAsync(string interfaceName, int count, CancellationToken cancellationToken)
    {
        try
        {
            var lines = await File.ReadAllLinesAsync(LogFile(interfaceName), cancellationToken).ConfigureAwait(false);
            return [.. lines.Where(l => l.Length > 0).TakeLast(count)];
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
    }

    private string LogFile(string interfaceName) => Path.Combine(_stateDirectory, $"wireguard-go.{interfaceName}.log");

    private static async Task KillAsync(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Already reaped, or the kernel is slow to tear the TUN device down; the pkill that follows settles it.
        }
    }

    /// <summary>Takes over arrow interfaces left by a previous run of the agent (their wireguard-go keeps running).</summary>
    /// <param name="accept">Which of the prefix's interfaces are arrows of this driver (not another driver's, not another tool's).</param>
    public async Task<IReadOnlyList<string>> AdoptAsync(string prefix, CancellationToken cancellationToken, Func<string, bool>? accept = null)
    {
        var output = await _shell.RunCheckedAsync("ip", ["-o", "link", "show"], cancellationToken).ConfigureAwait(false);
        var adopted = new List<string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(':', 3)[1].Trim().Split('@')[0];
            if (name.StartsWith(prefix, StringComparison.Ordinal) && accept?.Invoke(name) != false && _tunnels.TryAdd(name, null))
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

    private async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken) =>
        (await _shell.RunAsync("ip", ["link", "show", name], cancellationToken: cancellationToken).ConfigureAwait(false)).ExitCode == 0;

    private async Task WaitForInterfaceAsync(string name, Process process, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            if (process.HasExited)
            {
                var said = File.Exists(LogFile(name)) ? string.Join(" | ", File.ReadLines(LogFile(name)).TakeLast(3)) : "";
                throw new HostCommandException($"wireguard-go {name} exited with {process.ExitCode} before creating the interface: {said}");
            }

            if (await ExistsAsync(name, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        throw new HostCommandException($"wireguard-go {name}: no interface after 5 s");
    }
}
