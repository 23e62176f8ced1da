using System.Globalization;
using System.Text;
using Re6st.Lab.Netns;
using Re6st.Runtime;

namespace Re6st.Lab.Tests.RealNodes;

/// <summary>
/// Every half second, the route each host's kernel chooses for its own packets to every other host
/// (<c>ip -6 route get TO from FROM</c>) and its IPv6 routes to the mesh's hosts: when pings are
/// lost, what the sending host routed at that moment. A diagnostic of the rolling upgrade's
/// open cause (docs/benchmarks.md, cause 7): a host's own pings went unanswered while those
/// towards it were answered, which the route its own packets take, against the one its replies
/// take (the kernel sends an echo reply out of the interface the request came in on when it has a
/// route there), may explain.
/// </summary>
public sealed class RouteSampler : IAsyncDisposable
{
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(500);
    private readonly IReadOnlyList<LabHost> _hosts;
    private readonly List<(DateTime At, string Host, string Text)> _samples = [];
    // Not disposed: a token source without a timer holds nothing to release.
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    private RouteSampler(IReadOnlyList<LabHost> hosts)
    {
        _hosts = hosts;
        _run = Task.Run(RunAsync);
    }

    public static RouteSampler Start(IReadOnlyList<LabHost> hosts) => new(hosts);

    /// <summary>What <paramref name="host"/> routed from two seconds before <paramref name="at"/> to six seconds after.</summary>
    public string Around(string host, DateTime at)
    {
        lock (_samples)
        {
            var text = new StringBuilder();
            foreach (var (time, _, sample) in _samples.Where(s => s.Host == host && s.At >= at - TimeSpan.FromSeconds(2) && s.At <= at + TimeSpan.FromSeconds(6)))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{host} at {time:HH:mm:ss.f}:");
                text.AppendLine(sample);
            }

            return text.Length == 0 ? $"(no route sample of {host} around {at:HH:mm:ss.f})" : text.ToString();
        }
    }

    // "5: re600e: <POINTOPOINT,...> ... \    link/none \    RX: bytes packets errors dropped ... \    1234 12 0 0 ... \
    // TX: ... \    5678 34 0 0 ..." (ip -s -o link) as "re600e rx 12 (dropped 0) tx 34 (dropped 0)".
    private static string Counters(string line)
    {
        var parts = line.Split('\\', StringSplitOptions.TrimEntries);
        var name = line.Split(':', 3)[1].Trim().Split('@')[0];
        string Figures(int i) => i < parts.Length && parts[i].Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: >= 4 } f ? $"{f[1]} (dropped {f[3]})" : "?";
        return $"{name} rx {Figures(3)} tx {Figures(5)}";
    }

    /// <summary>Stops sampling (what was sampled stays readable); again does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await _run;
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var host in _hosts)
            {
                var batch = string.Join('\n', _hosts.Where(h => h != host).Select(h => $"route get {h.Ipv6Address} from {host.Ipv6Address}"))
                    + "\nroute show";
                var file = Path.Combine(Path.GetTempPath(), $"re6st-routes-{host.Name}-{Environment.ProcessId}.batch");
                await File.WriteAllTextAsync(file, batch);
                try
                {
                    var result = await CommandRunner.RunAsync("ip", ["-6", "-n", host.Namespace, "-force", "-batch", file], TimeSpan.FromSeconds(5));
                    var routes = string.Join('\n', result.Output.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("fe80", StringComparison.Ordinal) && !l.StartsWith("multicast", StringComparison.Ordinal) && !l.Contains("proto kernel", StringComparison.Ordinal)));

                    // Each arrow's packet counters: whether the host's packets leave by the
                    // interface its route names, and whether the peer's come in.
                    var links = await CommandRunner.RunAsync("ip", ["-n", host.Namespace, "-s", "-o", "link", "show"], TimeSpan.FromSeconds(5));
                    var counters = string.Join('\n', links.Output.Split('\n').Where(l => l.Contains(": re6", StringComparison.Ordinal)).Select(Counters));
                    lock (_samples)
                    {
                        _samples.Add((DateTime.UtcNow, host.Name, routes + (result.Error.Length > 0 ? "\n" + result.Error.Trim() : "") + "\n" + counters));
                    }
                }
                catch (TimeoutException)
                {
                    // A slow sample is skipped; the next one comes.
                }
                finally
                {
                    File.Delete(file);
                }
            }

            try
            {
                await Task.Delay(Pace, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
