using System.Globalization;

namespace Re6st.Lab.Netns;

/// <summary>
/// Cgroups of the lab (one per real Kubernetes node, named after its run: "r6a0b610-a"), made in every
/// controller of the machine's cgroup v1 hierarchies. A node's processes, its containers included,
/// all live under its cgroup: removing it kills every one of them, wherever their network namespace.
/// </summary>
public static class LabCgroups
{
    private const string Root = "/sys/fs/cgroup";

    /// <summary>Makes cgroup <paramref name="name"/> in every hierarchy (a cpuset one gets its parent's CPUs and memory nodes).</summary>
    public static void Create(string name)
    {
        foreach (var hierarchy in Hierarchies())
        {
            var path = Path.Combine(hierarchy, name);
            Directory.CreateDirectory(path);
            foreach (var inherited in new[] { "cpuset.cpus", "cpuset.mems" })
            {
                if (File.Exists(Path.Combine(path, inherited)) && File.ReadAllText(Path.Combine(path, inherited)).Trim().Length == 0)
                {
                    File.WriteAllText(Path.Combine(path, inherited), File.ReadAllText(Path.Combine(hierarchy, inherited)));
                }
            }
        }
    }

    /// <summary>The top-level cgroups of every hierarchy (the lab's among them).</summary>
    public static IReadOnlyList<string> Names() =>
        [.. Hierarchies().SelectMany(Directory.GetDirectories).Select(Path.GetFileName).OfType<string>().Distinct(StringComparer.Ordinal)];

    /// <summary>The cgroups of run <paramref name="runId"/> that exist in some hierarchy.</summary>
    public static IReadOnlyList<string> OfRun(string runId) =>
        [.. Hierarchies()
            .SelectMany(h => Directory.GetDirectories(h, runId + "-*").Select(Path.GetFileName))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// Kills every process under cgroup <paramref name="name"/> (SIGKILL, until none is left, at most
    /// 15 s), then removes it and its children in every hierarchy; returns what could not be removed.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RemoveAsync(string name, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var errors = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var pids = Hierarchies().SelectMany(h => Processes(Path.Combine(h, name))).Distinct().ToList();
            if (pids.Count == 0)
            {
                break;
            }

            if (DateTime.UtcNow > deadline)
            {
                errors.Add($"cgroup {name}: processes {string.Join(' ', pids.Take(10))} survive SIGKILL");
                return errors;
            }

            log($"killing {pids.Count} process(es) of cgroup {name}");
            foreach (var pid in pids)
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    // Exited meanwhile.
                }
            }

            await Task.Delay(100);
        }

        foreach (var hierarchy in Hierarchies())
        {
            var top = Path.Combine(hierarchy, name);
            if (!Directory.Exists(top))
            {
                continue;
            }

            // Children first: a cgroup v1 directory goes only once it has no child.
            foreach (var dir in Directory.GetDirectories(top, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(top))
            {
                try
                {
                    Directory.Delete(dir);
                }
                catch (IOException e) when (Directory.Exists(dir))
                {
                    errors.Add($"cgroup {dir}: {e.Message}");
                }
                catch (DirectoryNotFoundException)
                {
                    // Removed meanwhile (the kubelet cleans its pod cgroups).
                }
            }
        }

        return errors;
    }

    /// <summary>Every process under cgroup <paramref name="name"/>, its children's included.</summary>
    public static IReadOnlyList<int> ProcessesOf(string name) =>
        [.. Hierarchies().SelectMany(h => Processes(Path.Combine(h, name))).Distinct()];

    private static IEnumerable<string> Hierarchies() =>
        Directory.Exists(Root)
            ? Directory.GetDirectories(Root).Where(h => File.Exists(Path.Combine(h, "cgroup.procs")))
            : [];

    private static List<int> Processes(string cgroup)
    {
        if (!Directory.Exists(cgroup))
        {
            return [];
        }

        var pids = new List<int>();
        foreach (var procs in Directory.EnumerateFiles(cgroup, "cgroup.procs", SearchOption.AllDirectories))
        {
            try
            {
                pids.AddRange(File.ReadAllLines(procs).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The cgroup went meanwhile.
            }
        }

        return pids;
    }
}
