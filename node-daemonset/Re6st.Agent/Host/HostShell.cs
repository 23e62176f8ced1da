using System.Diagnostics;
using Re6st.Runtime;

namespace Re6st.Agent.Host;

/// <summary>
/// Runs the host's network tools (ip, wg, wireguard-go, openvpn), optionally inside a network
/// namespace (`ip netns exec NS ...`): the agent normally runs in the host's namespace; in the lab
/// and the tests each simulated host is a namespace.
/// </summary>
public sealed class HostShell(string? netns = null)
{
    public string? Netns { get; } = netns;

    /// <summary>Where processes that must outlive the agent's pod go (<see cref="PodEscape"/>); null outside a pod, or in one they cannot leave.</summary>
    public PodEscape? Escape { get; init; }

    /// <summary>Whether the long-running processes started with <c>outliveAgent</c> survive the agent: not in a pod, or in one they can leave.</summary>
    public bool ProcessesOutliveAgent { get; init; } = true;

    /// <summary>Runs a host tool to completion in this host's namespace (<see cref="CommandRunner"/>).</summary>
    public Task<CommandResult> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Netns is null
            ? CommandRunner.RunAsync(file, args, timeout, cancellationToken: cancellationToken)
            : CommandRunner.RunAsync("ip", ["netns", "exec", Netns, file, .. args], timeout, cancellationToken: cancellationToken);

    /// <summary>Applies an nft script in one transaction (<c>nft -f</c>): all of it, or nothing and an exception with nft's words.</summary>
    public async Task NftScriptAsync(string script, CancellationToken cancellationToken = default)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, script, cancellationToken).ConfigureAwait(false);
            await RunCheckedAsync("nft", ["-f", file], cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Runs a command that must succeed; its error output becomes the exception's message.</summary>
    public async Task<string> RunCheckedAsync(string file, IEnumerable<string> args, CancellationToken cancellationToken = default)
    {
        var list = args.ToList();
        var result = await RunAsync(file, list, cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0
            ? result.Output
            : throw new HostCommandException($"{Describe(file, list)} failed ({result.ExitCode}): {result.Error.Trim()}");
    }

    /// <summary>
    /// Sends <paramref name="signal"/> (TERM, KILL) to the processes whose whole command line is
    /// <paramref name="commandLine"/>, among those of this host's network namespace only: an agent
    /// that shares its PID namespace with other hosts' (hostPID, several lab nodes on one machine)
    /// must not touch their babeld or tunnels of the same name. Exit code 0: some matched.
    /// </summary>
    public Task<CommandResult> SignalAsync(string signal, string commandLine, CancellationToken cancellationToken = default) =>
        RunAsync("sh", ["-c", $"exec pkill --ns $$ --nslist net -{signal} -x -f \"$0\"", commandLine], cancellationToken: cancellationToken);

    /// <summary>Whether a process of this host's network namespace has <paramref name="commandLine"/> as its whole command line.</summary>
    public async Task<bool> RunsAsync(string commandLine, CancellationToken cancellationToken = default) =>
        (await RunAsync("sh", ["-c", "exec pgrep --ns $$ --nslist net -x -f \"$0\"", commandLine], cancellationToken: cancellationToken).ConfigureAwait(false)).ExitCode == 0;

    /// <summary>Starts a long-running process (e.g. wireguard-go in the foreground); the caller owns it.</summary>
    /// <param name="outliveAgent">A tunnel's process, which an agent in a pod moves out of it (<see cref="Escape"/>) so that its next run adopts it.</param>
    public Process Start(string file, IEnumerable<string> args, IDictionary<string, string>? environment, bool redirect, bool outliveAgent = false)
    {
        var process = Launch(file, args, environment, redirect);
        if (outliveAgent && Escape is { } escape)
        {
            try
            {
                escape.Keep(process.Id);
            }
            catch (HostCommandException)
            {
                process.Kill();
                process.Dispose();
                throw;
            }
        }

        return process;
    }

    private Process Launch(string file, IEnumerable<string> args, IDictionary<string, string>? environment, bool redirect)
    {
        var info = new ProcessStartInfo(Netns is null ? file : "ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = redirect,
            RedirectStandardError = redirect,
        };
        if (Netns is not null)
        {
            foreach (var a in new[] { "netns", "exec", Netns, file })
            {
                info.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }

        return Process.Start(info) ?? throw new HostCommandException($"cannot start {file}");
    }

    private string Describe(string file, IEnumerable<string> args) =>
        (Netns is null ? "" : $"[netns {Netns}] ") + file + " " + string.Join(' ', args);
}

public sealed class HostCommandException : Exception
{
    public HostCommandException()
    {
    }

    public HostCommandException(string message)
        : base(message)
    {
    }

    public HostCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
