using System.Runtime.InteropServices;

namespace Re6st.Agent.Babel;

internal static partial class PosixSignals
{
    public const int SigTerm = 15;

    public const int SigStop = 19;

    public const int SigCont = 18;

    /// <summary>Sends <paramref name="signal"/>; false when the process no longer exists.</summary>
    public static bool Send(int processId, int signal) => Kill(processId, signal) == 0;

    // System.Diagnostics.Process can only SIGKILL; babeld needs SIGTERM to retract its routes.
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
