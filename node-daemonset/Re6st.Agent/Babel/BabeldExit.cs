namespace Re6st.Agent.Babel;

/// <summary>
/// How a babeld run ended. <see cref="ExitCode"/> is 128 + the signal number for a killed process
/// (137 for SIGKILL); babeld exits 1 on a configuration it cannot parse or a busy control socket.
/// </summary>
public sealed record BabeldExit(int ProcessId, int ExitCode, TimeSpan Ran, IReadOnlyList<string> LastErrorLines);
