using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Re6st.Lab.Netns;
using Re6st.Runtime;

namespace Re6st.Lab.Kube;

/// <summary>
/// A Docker-compatible engine for tests that drive containers through the Docker API (Testcontainers):
/// Debian's podman serving it (<c>podman system service</c>) on a socket of its own, with the lab's
/// images loaded from their archives. Nothing of it reaches the machine: podman runs in a network
/// namespace of its own (on the machine's it would make a cni-podman0 bridge and iptables chains),
/// in a private mount namespace (its overlay mounts go with its last process), and under a cgroup
/// named after its run, where its containers' cgroups go too (<see cref="CgroupParent"/>); its
/// configuration, storage, and a /run and /var of its own (runc's state, locks, temporary files)
/// live in the run's folder. Dispose removes it all; a crashed run's debris goes with the next
/// lab's sweep (<see cref="NetnsLab"/>), measured by killing a test mid-run.
/// </summary>
public sealed class PodmanService : IAsyncDisposable
{
    private const string HostName = "pm";

    /// <summary>What runs before podman in its namespaces: sh -c Prologue sh CGROUP DIRECTORY PROGRAM ARGS...</summary>
    private const string Prologue = """
        set -e
        cgroup=$1 dir=$2
        shift 2
        for c in /sys/fs/cgroup/*/; do
            if [ -d "$c$cgroup" ]; then echo $$ > "$c$cgroup/cgroup.procs"; fi
        done
        mkdir -p "$dir/run" "$dir/var/tmp"
        mount --bind "$dir/run" /run
        mount --bind "$dir/var" /var
        exec "$@"
        """;

    private readonly NetnsLab _lab;
    private readonly Process _process;
    private readonly string _cgroup;
    private readonly Dictionary<string, string> _environment;
    private int _disposed;

    private PodmanService(NetnsLab lab, string directory, string cgroup, Process process)
    {
        _lab = lab;
        Directory = directory;
        _cgroup = cgroup;
        _process = process;
        _environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["CONTAINERS_CONF"] = ConfigPath(directory) };
    }

    /// <summary>The run's folder: containers.conf, the socket, the storage (root/, runroot/), podman's /run and /var, the service's log.</summary>
    public string Directory { get; }

    /// <summary>The Docker API's address (Testcontainers' endpoint, or DOCKER_HOST).</summary>
    public Uri Endpoint => new("unix://" + SocketPath(Directory));

    /// <summary>
    /// The cgroup a container must be created under (HostConfig.CgroupParent): the run's, which the
    /// lab empties and removes even after a crash. Podman's default, /libpod_parent, would outlive the run.
    /// </summary>
    public string CgroupParent => "/" + _cgroup;

    /// <summary>Starts the service (in about a second) and waits until its socket answers.</summary>
    /// <param name="log">Progress and cleanup lines.</param>
    public static async Task<PodmanService> StartAsync(Action<string>? log, CancellationToken cancellationToken)
    {
        if (!CommandRunner.OnPath("podman"))
        {
            throw new InvalidOperationException("needs 'podman' on PATH (Debian package podman; tests/tools/packages.sh installs it)");
        }

        var lab = await NetnsLab.CreateAsync(log);
        try
        {
            var host = await lab.AddHostAsync(HostName, announce: false);
            var directory = Path.Combine(lab.DiskDirectory, "podman");
            System.IO.Directory.CreateDirectory(directory);
            await File.WriteAllTextAsync(ConfigPath(directory), Config(directory), cancellationToken);
            var cgroup = $"{lab.RunId}-{HostName}";
            LabCgroups.Create(cgroup);

            // The shell moves itself into the run's cgroup, gives the namespace a private /run and
            // /var (runc's state, podman's locks, temporary files and blob cache land there, not
            // on the machine), then becomes podman: the service and everything it starts (conmon,
            // the containers) are found under the cgroup.
            var process = ProcessRunner.StartLogged(
                "nsenter",
                [
                    $"--net=/run/netns/{host.Namespace}", "--", "unshare", "--mount", "--propagation", "private", "--",
                    "sh", "-c", Prologue, "sh", cgroup, directory,
                    "env", "CONTAINERS_CONF=" + ConfigPath(directory), "podman", .. StorageOptions(directory),
                    "system", "service", "--time=0", "unix://" + SocketPath(directory),
                ],
                LogPath(directory));
            var service = new PodmanService(lab, directory, cgroup, process);
            try
            {
                await service.WaitForSocketAsync(TimeSpan.FromSeconds(30), cancellationToken);
                lab.Log($"podman serves the Docker API at {service.Endpoint} (namespace {host.Namespace}, cgroup {cgroup})");
                return service;
            }
            catch
            {
                await service.DisposeAsync();
                throw;
            }
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Loads <paramref name="image"/> (a docker-save archive) through the service, under its reference.</summary>
    public async Task LoadAsync(LabImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        // Through the service, not a local podman: a local one would mount its storage in this
        // process's mount namespace, where nothing removes the mounts with the service.
        var (code, output) = await CommandRunner.RunAsync(
            "podman", ["--remote", "--url", Endpoint.ToString(), "load", "--input", image.Archive], TimeSpan.FromMinutes(3), _environment, cancellationToken: cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        if (code != 0 || !output.Contains(image.Reference, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"podman load of {image.Reference} failed (exit code {code}): {output.Trim()}");
        }

        _lab.Log($"podman: loaded {image.Reference}");
    }

    /// <summary>Stops the service, kills what it left (conmon, containers), removes its cgroup, namespace and folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var errors = new List<string>();
        try
        {
            await ProcessRunner.StopAsync(_process, TimeSpan.FromSeconds(10));

            // CAVEAT: the conmon of each exec session stays 5 minutes after it (--exit-delay 300),
            // and a container's own processes may survive a stopped service: the cgroup takes them all.
            errors.AddRange(await LabCgroups.RemoveAsync(_cgroup, _lab.Log));
            errors.AddRange(await UnmountAsync(Directory, _lab.Log));
        }
        finally
        {
            try
            {
                await _lab.DisposeAsync();
            }
            catch (InvalidOperationException e)
            {
                errors.Add(e.Message);
            }
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"the podman service did not stop cleanly: {string.Join("; ", errors)}");
        }
    }

    /// <summary>
    /// Unmounts what is still mounted under <paramref name="directory"/> in this mount namespace,
    /// deepest first. Podman mounts its overlays in its own namespace, so nothing is expected here;
    /// but an overlay left mounted would make the folder impossible to delete.
    /// </summary>
    private static async Task<IReadOnlyList<string>> UnmountAsync(string directory, Action<string> log)
    {
        var errors = new List<string>();
        var mounted = File.ReadAllLines("/proc/self/mountinfo")
            .Select(l => l.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(m => m == directory || m.StartsWith(directory + "/", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(m => m.Length);
        foreach (var mount in mounted)
        {
            log($"podman left {mount} mounted: unmounting it");
            var result = await Command.RunAsync("umount", ["--lazy", mount], check: false);
            if (!result.Succeeded)
            {
                errors.Add(result.ToString());
            }
        }

        return errors;
    }

    private async Task WaitForSocketAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (File.Exists(SocketPath(Directory)))
            {
                using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath(Directory)), cancellationToken);
                    return;
                }
                catch (SocketException)
                {
                    // Bound but not listening yet.
                }
            }

            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                var log = File.Exists(LogPath(Directory)) ? await File.ReadAllTextAsync(LogPath(Directory), cancellationToken) : "";
                throw new InvalidOperationException(
                    $"podman system service did not answer at {SocketPath(Directory)} within {timeout.TotalSeconds:F0} s{(_process.HasExited ? " (it exited)" : "")}:\n{log}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Storage in the run's folder: the machine's /var/lib/containers and /run/containers stay untouched.</summary>
    private static string[] StorageOptions(string directory) =>
        ["--root", Path.Combine(directory, "root"), "--runroot", Path.Combine(directory, "runroot"), "--storage-driver", "overlay"];

    /// <summary>
    /// The service's containers.conf (CONTAINERS_CONF: the only one read). Each setting is one this
    /// machine needs, measured with podman 4.3.1, or keeps podman's state off the machine's files.
    /// </summary>
    private static string Config(string directory) => $"""
        [containers]
        # root here lacks CAP_SYS_RESOURCE, so podman's default limits, above the current ones, are
        # refused ("setrlimit RLIMIT_NOFILE: Operation not permitted").
        default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

        [engine]
        # crun fails on this machine's hybrid cgroup v1 hierarchy; runc works.
        runtime = "runc"
        # No systemd.
        cgroup_manager = "cgroupfs"
        events_logger = "file"
        # Locks as files in tmp_dir (in the private /run), not in /dev/shm/libpod_lock, which every
        # podman of the machine shares.
        lock_type = "file"

        [network]
        network_config_dir = "{Path.Combine(directory, "networks")}"
        """;

    private static string ConfigPath(string directory) => Path.Combine(directory, "containers.conf");

    // A socket path holds 107 bytes: /tmp/re6st-lab/RUN/podman/podman.sock is far below.
    private static string SocketPath(string directory) => Path.Combine(directory, "podman.sock");

    private static string LogPath(string directory) => Path.Combine(directory, "service.log");
}
