using System.Globalization;

namespace Re6st.Agent.Host;

/// <summary>
/// Where an agent that runs in a pod keeps the processes its host's tunnels live in (wireguard-go,
/// OpenVPN), so that they outlive the pod and its next run adopts them (<see cref="Lifecycle.HandOver"/>).
/// When a container stops, the runtime kills every process in its cgroup, and the kubelet every
/// process left in the pod's. A tunnel process is therefore moved, right after it starts, into a
/// cgroup of its own beside the kubelet's: <c>&lt;the kubelet's root&gt;/re6st-tunnels</c> in every
/// hierarchy the pod's cgroup is in. That takes the host's PID namespace (hostPID: with a PID
/// namespace of its own, the kernel kills the pod's processes with the agent), the host's cgroup
/// tree mounted at <see cref="HostCgroupRoot"/> (a hostPath volume of /sys/fs/cgroup: a container's
/// own /sys/fs/cgroup shows only its own cgroup, and /proc/1/root is out of a pod's reach) and a
/// privileged container (to write there).
/// A process not in a pod needs none of this: its tunnels outlive it as they are.
/// </summary>
public sealed class PodEscape
{
    /// <summary>The cgroup the tunnel processes are moved to, beside the kubelet's kubepods.</summary>
    public const string CgroupName = "re6st-tunnels";

    /// <summary>Where the chart mounts the host's /sys/fs/cgroup in the agent's container.</summary>
    public const string HostCgroupRoot = "/host/sys/fs/cgroup";

    private const string Kubepods = "/kubepods";

    private readonly IReadOnlyList<string> _directories;

    private PodEscape(IReadOnlyList<string> directories) => _directories = directories;

    /// <summary>The keeping cgroup in each hierarchy, as this process reaches it.</summary>
    public IReadOnlyList<string> Directories => _directories;

    /// <summary>What <see cref="Detect"/> found.</summary>
    public sealed record Detection(bool InPod, PodEscape? Escape, string? Trapped)
    {
        /// <summary>Whether the processes this agent starts outlive it: not in a pod, or in one they can leave.</summary>
        public bool ProcessesOutliveAgent => !InPod || Escape is not null;
    }

    /// <summary>
    /// Finds whether this process runs in a pod (its cgroup is under the kubelet's kubepods) and,
    /// if so, whether its tunnel processes can leave the pod (<paramref name="proc"/> is /proc, or a copy in tests).
    /// </summary>
    /// <param name="hostCgroupRoot">Where the host's cgroup tree is mounted (<see cref="HostCgroupRoot"/>; another place in tests).</param>
    public static Detection Detect(string proc = "/proc", string hostCgroupRoot = HostCgroupRoot)
    {
        var own = ReadCgroups(Path.Combine(proc, "self", "cgroup"));
        if (!own.Any(c => c.Path.Contains(Kubepods, StringComparison.Ordinal)))
        {
            return new Detection(false, null, null);
        }

        if (ReadCgroups(Path.Combine(proc, "1", "cgroup")).Any(c => c.Path.Contains(Kubepods, StringComparison.Ordinal)))
        {
            return new Detection(true, null, "the pod has a PID namespace of its own (set hostPID: true): its tunnel processes die with it");
        }

        List<(string MountPoint, string[] Options, bool Unified)> mounts;
        try
        {
            mounts = [.. ReadCgroupMounts(Path.Combine(proc, "self", "mountinfo")).Where(m => m.MountPoint.StartsWith(hostCgroupRoot, StringComparison.Ordinal))];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Detection(true, null, $"cannot read this process's mounts ({e.Message})");
        }

        if (mounts.Count == 0)
        {
            return new Detection(true, null, $"the host's cgroup tree is not mounted at {hostCgroupRoot} (a hostPath volume of /sys/fs/cgroup)");
        }

        var directories = new List<string>();
        foreach (var (controllers, path) in own)
        {
            var at = path.IndexOf(Kubepods, StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            var mount = controllers.Length == 0
                ? mounts.FirstOrDefault(m => m.Unified)
                : mounts.FirstOrDefault(m => !m.Unified && controllers.All(m.Options.Contains));
            if (mount.MountPoint is null)
            {
                return new Detection(true, null, $"no mount of the host's cgroup hierarchy '{string.Join(',', controllers)}' under {hostCgroupRoot}");
            }

            directories.Add(mount.MountPoint + path[..at] + "/" + CgroupName);
        }

        return new Detection(true, new PodEscape(directories), null);
    }

    /// <summary>Moves <paramref name="processId"/> (and its threads) out of the pod, into the keeping cgroup of every hierarchy.</summary>
    /// <exception cref="HostCommandException">A hierarchy refused it.</exception>
    public void Keep(int processId)
    {
        foreach (var directory in _directories)
        {
            try
            {
                if (!Directory.Exists(directory))
                {
                    Directory.CreateDirectory(directory);

                    // CAVEAT: a new cpuset cgroup (v1) has no CPUs and no memory nodes, and takes no process until it is given its parent's.
                    foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" })
                    {
                        var own = Path.Combine(directory, file);
                        if (File.Exists(own) && File.ReadAllText(own).Trim().Length == 0)
                        {
                            File.WriteAllText(own, File.ReadAllText(Path.Combine(Path.GetDirectoryName(directory)!, file)));
                        }
                    }
                }

                File.WriteAllText(Path.Combine(directory, "cgroup.procs"), processId.ToString(CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new HostCommandException($"cannot move process {processId} out of the pod into {directory}: {e.Message}", e);
            }
        }
    }

    /// <summary>Removes the keeping cgroups once no process is left in them (a clean stop); one still in use stays.</summary>
    public void RemoveEmpty()
    {
        foreach (var directory in _directories)
        {
            try
            {
                Directory.Delete(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Processes still in it (a tunnel that would not stop), or already gone.
            }
        }
    }

    /// <summary>The lines of a /proc/PID/cgroup file: the controllers of each hierarchy (none for the unified one) and the path in it.</summary>
    private static List<(string[] Controllers, string Path)> ReadCgroups(string file)
    {
        if (!File.Exists(file))
        {
            return [];
        }

        return [.. File.ReadAllLines(file)
            .Select(l => l.Split(':', 3))
            .Where(p => p.Length == 3)
            .Select(p => (p[1].Split(',', StringSplitOptions.RemoveEmptyEntries), p[2]))];
    }

    /// <summary>The whole-hierarchy cgroup mounts in a mountinfo file (root "/"): mount point, super options (v1 controllers, name=...), unified or not.</summary>
    private static List<(string MountPoint, string[] Options, bool Unified)> ReadCgroupMounts(string file)
    {
        var mounts = new List<(string MountPoint, string[] Options, bool Unified)>();
        foreach (var line in File.ReadAllLines(file))
        {
            // "36 35 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory"
            var halves = line.Split(" - ", 2);
            if (halves.Length != 2)
            {
                continue;
            }

            var fields = halves[0].Split(' ');
            var tail = halves[1].Split(' ');
            if (fields.Length < 5 || tail.Length < 3 || tail[0] is not ("cgroup" or "cgroup2") || fields[3] != "/")
            {
                continue;
            }

            mounts.Add((fields[4], tail[2].Split(','), tail[0] == "cgroup2"));
        }

        return mounts;
    }
}
