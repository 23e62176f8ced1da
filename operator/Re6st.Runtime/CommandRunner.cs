using System.Diagnostics;

namespace Re6st.Runtime;

/// <summary>
/// The one way the programs run a short command to completion: the agent's host tools (through
/// its <c>HostShell</c>, which adds the network namespace), the lab's tools, the tests' helm and
/// kubectl. Long-running processes (babeld, tunnels, the lab's servers) are started elsewhere.
/// </summary>
/// <remarks>
/// A small helper rather than CliWrap: beyond starting, waiting and killing, the one behaviour needed
/// is the grace on the output pipes below, and the native agent stays free of another dependency.
/// </remarks>
public static class CommandRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long the output is waited for once the command has exited.</summary>
    private static readonly TimeSpan PipeGrace = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="args"/>, its standard input closed, and
    /// returns its exit code and output. A command that overstays <paramref name="timeout"/> is
    /// killed with its children and a <see cref="TimeoutException"/> names it; a cancelled one is
    /// killed too and the cancellation goes on.
    /// </summary>
    public static async Task<CommandResult> RunAsync(
        string file,
        IEnumerable<string> args,
        TimeSpan? timeout = null,
        IDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var text = $"{file} {string.Join(' ', info.ArgumentList)}";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {text}");
        process.StandardInput.Close();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var output = process.StandardOutput.ReadToEndAsync(reading.Token);
        var error = process.StandardError.ReadToEndAsync(reading.Token);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await reading.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"'{text}' did not finish within {(timeout ?? DefaultTimeout).TotalSeconds} s");
        }

        // CAVEAT: the output pipes can stay open after the command has exited (a process it started
        // inherited them); the result must not wait on that, so reading gets a short grace.
        var reads = Task.WhenAll(output, error);
        if (await Task.WhenAny(reads, Task.Delay(PipeGrace, cancellationToken)).ConfigureAwait(false) != reads)
        {
            await reading.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return new CommandResult(text, process.ExitCode, "", "");
        }

        return new CommandResult(text, process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    /// <summary>Whether <paramref name="tool"/> is a file in a folder of PATH.</summary>
    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));
}

/// <summary>What a command did: the command line, its exit code, what it wrote on each stream.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>This result, or an exception that quotes the command and all it wrote when it failed.</summary>
    public CommandResult EnsureSucceeded() => Succeeded ? this : throw new InvalidOperationException(ToString());

    /// <summary>The exit code and everything the command wrote, its output then its errors: <c>var (code, output) = await ...</c>.</summary>
    public void Deconstruct(out int exitCode, out string output)
    {
        exitCode = ExitCode;
        output = Output + Error;
    }

    public override string ToString() => $"'{Command}' exited {ExitCode}\n{Output}{Error}";
}
