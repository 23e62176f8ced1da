using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Re6st.Agent.Host;

/// <summary>
/// Sockets in a host's network namespace. A socket belongs to the namespace of the thread that
/// created it, and keeps it for life; so a short-lived thread joins the namespace (setns), creates
/// the socket and ends, and the agent's own threads never leave the namespace they run in.
/// </summary>
internal static partial class NetnsSockets
{
    private const int CloneNewNet = 0x40000000;

    public static Socket Create(string? netns, Func<Socket> create)
    {
        if (netns is null)
        {
            return create();
        }

        using var handle = File.OpenHandle($"/run/netns/{netns}");
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new IOException($"setns into network namespace {netns} failed (errno {Marshal.GetLastPInvokeError()})");
                }

                socket = create();
            }
#pragma warning disable CA1031 // Carried over to the calling thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = "netns " + netns,
        };
        thread.Start();
        thread.Join();
        return socket ?? throw new IOException($"cannot open a socket in network namespace {netns}", failure);
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
