using System.Globalization;
using Re6st.Lab.Cluster;
using Re6st.Lab.Netns;

namespace Re6st.Lab;

/// <summary>
/// The end of a lab, whatever state it is in: <c>re6st lab down</c>, and <c>lab up</c> when it fails
/// or is interrupted, call it; its state file (<see cref="LabState"/>) is enough to find everything.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class LabTeardown
{
    /// <summary>
    /// Tells the lab's process to remove everything, then removes by force what is still there (its
    /// process died, or did not finish): recorded processes, the run's namespaces with whatever runs
    /// in them, and the debris of other dead labs. Returns what could not be removed (empty when
    /// nothing is left).
    /// </summary>
    public static async Task<IReadOnlyList<string>> RemoveAsync(string directory, Action<string> say)
    {
        ArgumentNullException.ThrowIfNull(say);
        var state = LabState.Read(directory);
        if (state is null)
        {
            say($"no lab in {directory}");
        }
        else if (state.Lab.IsAlive)
        {
            say(state.Kind == LabKind.RealNodes
                ? "stopping the lab (each node with its pods, then Prometheus, the control plane and the namespaces)"
                : "stopping the lab (agents first, then the operator, Prometheus, the API server and the namespaces)");
            await Command.RunAsync("kill", ["-TERM", state.Lab.Pid.ToString(CultureInfo.InvariantCulture)], check: false);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (state.Lab.IsAlive && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }

            if (state.Lab.IsAlive)
            {
                say("the lab's process did not stop within 120 s; killing it");
                await Command.RunAsync("kill", ["-KILL", state.Lab.Pid.ToString(CultureInfo.InvariantCulture)], check: false);
            }
        }

        var errors = new List<string>();
        if (state is not null)
        {
            foreach (var process in state.Processes.Where(p => p.IsAlive))
            {
                say($"killing {process.What} (pid {process.Pid})");
                await Command.RunAsync("kill", ["-KILL", process.Pid.ToString(CultureInfo.InvariantCulture)], check: false);
            }

            if (state.RunId is { } runId)
            {
                errors.AddRange(await NetnsLab.RemoveRunAsync(runId, say));
                var left = (await NetnsLab.NamespacesAsync()).Where(n => n.StartsWith(runId, StringComparison.Ordinal)).ToList();
                if (left.Count > 0)
                {
                    errors.Add($"namespaces left: {string.Join(", ", left)}");
                }
            }

            await Task.Delay(500);
            errors.AddRange(state.Processes.Where(p => p.IsAlive).Select(p => $"{p.What} (pid {p.Pid}) still runs"));
        }

        await NetnsLab.SweepAsync(say);
        foreach (var folder in new[] { "api", "prometheus", "bin" })
        {
            var path = Path.Combine(directory, folder);
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }

        if (Directory.Exists(directory))
        {
            File.Delete(LabState.PathIn(directory));
            File.Delete(Path.Combine(directory, "kubeconfig"));
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        say(state is null ? "nothing left"
            : state.Kind == LabKind.RealNodes ? $"lab removed; its progress log stays in {Path.Combine(directory, "lab.log")}"
            : $"lab removed; its logs stay in {Path.Combine(directory, "logs")}");
        return errors;
    }
}
