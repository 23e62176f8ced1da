using System.Diagnostics;
using Re6st.Runtime;

namespace Re6st.Lab;

/// <summary>
/// Long-running processes of the lab: started with their output logged, detached, or stopped. A
/// command run to completion goes through <see cref="CommandRunner"/>.
/// </summary>
public static class ProcessRunner
{
    /// <summary>
    /// Stops a long-running process: SIGTERM (its traps clean up after it), SIGKILL to its whole
    /// tree if it has not exited within <paramref name="grace"/>; then releases it.
    /// </summary>
    public static async Task StopAsync(Process process, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (!process.HasExited)
        {
            _ = await CommandRunner.RunAsync("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
            using var wait = new CancellationTokenSource(grace);
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        process.Dispose();
    }

    /// <summary>Starts a long-running process whose output and errors go, line by line, to <paramref name="logPath"/>.</summary>
    public static Process StartLogged(string file, IEnumerable<string> args, string logPath)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var log = new LogFile(logPath);
        process.OutputDataReceived += (_, e) => log.Write(e.Data);
        process.ErrorDataReceived += (_, e) => log.Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Starts a process that outlives this one: in a session of its own (a terminal's Ctrl-C does not
    /// reach it), reading nothing, its output appended to <paramref name="logPath"/> by the kernel
    /// rather than through a pipe to this process (which would die with it).
    /// </summary>
    public static void StartDetached(string file, IEnumerable<string> args, string logPath)
    {
        var info = new ProcessStartInfo("sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("log=\"$1\"; shift; exec setsid \"$@\" </dev/null >>\"$log\" 2>&1");
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add(logPath);
        info.ArgumentList.Add(file);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
    }
}
