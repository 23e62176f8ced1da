using System.Diagnostics;
using System.Globalization;

namespace Re6st.Lab.Kube;

/// <summary>
/// Follows the log of every agent pod of a real cluster (<c>kubectl logs -f</c>, one file a pod in
/// the lab's folder), so that what the agents said around an outage can be read after the fact,
/// even from the pods a rolling upgrade or a deletion removed (their logs go with them).
/// </summary>
public sealed class AgentLogs : IAsyncDisposable
{
    private readonly RealCluster _cluster;
    private readonly string _directory;
    private readonly Dictionary<string, Process> _followed = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private AgentLogs(RealCluster cluster)
    {
        _cluster = cluster;
        _directory = Path.Combine(cluster.Lab.DiskDirectory, "agent-logs");
        Directory.CreateDirectory(_directory);
        _loop = FollowAsync(_stop.Token);
    }

    /// <summary>Starts following; every second, a pod that runs and is not followed yet is.</summary>
    public static AgentLogs Follow(RealCluster cluster) => new(cluster ?? throw new ArgumentNullException(nameof(cluster)));

    /// <summary>
    /// The agents' lines stamped between <paramref name="from"/> and <paramref name="to"/> (the
    /// agent starts each line with its UTC time), in time order, each after its pod's name.
    /// </summary>
    public IReadOnlyList<string> Between(DateTime from, DateTime to)
    {
        var lines = new List<(DateTime At, string Line)>();
        foreach (var file in Directory.EnumerateFiles(_directory, "*.log"))
        {
            var pod = Path.GetFileNameWithoutExtension(file);
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                var stamp = line.Split(' ', 2)[0];
                if (DateTime.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at) && at >= from && at <= to)
                {
                    lines.Add((at, $"{pod}: {line}"));
                }
            }
        }

        return [.. lines.OrderBy(l => l.At).Select(l => l.Line)];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var process in _followed.Values)
        {
            await ProcessRunner.StopAsync(process, TimeSpan.FromSeconds(2));
        }

        _stop.Dispose();
    }

    private async Task FollowAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                foreach (var pod in await _cluster.PodsAsync("agent", cancellationToken))
                {
                    var name = pod.Metadata.Name;
                    if (pod.Status?.Phase == "Running" && !_followed.ContainsKey(name))
                    {
                        _followed[name] = ProcessRunner.StartLogged(
                            _cluster.Kubectl,
                            ["--kubeconfig", _cluster.Kubeconfig, "-n", RealCluster.Namespace, "logs", "-f", name],
                            Path.Combine(_directory, $"{name}.log"));
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException)
            {
                // The API server is busy or restarting: the next round follows what this one missed.
            }

            await Task.Delay(1000, cancellationToken);
        }
    }
}
