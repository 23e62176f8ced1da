namespace Re6st.Agent.Babel;

/// <summary>How to run and supervise one babeld.</summary>
public sealed record BabeldOptions(string ConfigPath)
{
    public string Executable { get; init; } = "babeld";

    /// <summary>Runs babeld inside this network namespace (<c>ip netns exec</c>, which execs in place: the PID is babeld's).</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>The config's <c>local-path-readwrite</c>; a stale socket file left by a crash is removed before each start.</summary>
    public string? ControlSocketPath { get; init; }

    public TimeSpan FirstRestartDelay { get; init; } = TimeSpan.FromSeconds(0.5);

    public TimeSpan MaxRestartDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A run at least this long counts as healthy: the next crash restarts after the first delay again.</summary>
    public TimeSpan StableRun { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long babeld gets after SIGTERM (it retracts its routes and removes them from the kernel) before SIGKILL.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// babeld writes a few lines a minute when healthy; past this many in one second it is looping
    /// on an error and is restarted.
    /// </summary>
    public int RunawayLinesPerSecond { get; init; } = 1000;

    public static BabeldOptions For(string configPath, BabelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new BabeldOptions(configPath) { ControlSocketPath = config.ControlSocketPath };
    }

    /// <summary>The delay before the restart that follows <paramref name="consecutiveFailures"/> short runs in a row (1 for the first).</summary>
    public TimeSpan RestartDelay(int consecutiveFailures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(consecutiveFailures, 1);
        var delay = FirstRestartDelay;
        for (var i = 1; i < consecutiveFailures && delay < MaxRestartDelay; i++)
        {
            delay *= 2;
        }

        return delay < MaxRestartDelay ? delay : MaxRestartDelay;
    }
}
