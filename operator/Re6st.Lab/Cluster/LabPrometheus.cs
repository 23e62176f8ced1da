using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Re6st.Lab.Cluster;

/// <summary>
/// A real Prometheus (Debian's) on loopback that scrapes the lab's operator and every agent, with
/// the project's alert rules loaded: the lab's metrics are read as a cluster's would be.
/// </summary>
public sealed class LabPrometheus : IAsyncDisposable
{
    public const string Program = "prometheus";

    /// <summary>Fast enough that a counter moves within seconds of an event, as the lab is watched live.</summary>
    public static readonly TimeSpan ScrapeInterval = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private LabPrometheus(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    /// <summary>A scrape target: host:port with the labels its series get.</summary>
    public sealed record Target(string Job, int Port, IReadOnlyDictionary<string, string> Labels)
    {
        /// <summary>Where this machine reaches it (a real node's address on the lab's switch, or loopback).</summary>
        public string Host { get; init; } = "127.0.0.1";
    }

    /// <param name="rules">Rule files to load (the project's alerts).</param>
    public static async Task<LabPrometheus> StartAsync(string directory, int port, IReadOnlyList<Target> targets, IReadOnlyList<string> rules, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(targets);
        Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, Config(targets, rules), cancellationToken);
        var process = ProcessRunner.StartLogged(
            Program,
            [
                $"--config.file={config}",
                $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                $"--web.listen-address=127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
                "--storage.tsdb.retention.time=1d",
                "--log.level=warn",
            ],
            Path.Combine(directory, "prometheus.log"));
        var prometheus = new LabPrometheus(process, port);
        try
        {
            await prometheus.WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
            return prometheus;
        }
        catch
        {
            await prometheus.DisposeAsync();
            throw;
        }
    }

    /// <summary>An instant query; each series' labels and value.</summary>
    public static async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(HttpClient http, Uri prometheus, string query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var response = await http.GetAsync(new Uri(prometheus, "api/v1/query?query=" + Uri.EscapeDataString(query)), cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Prometheus query '{query}': {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        var result = new List<(IReadOnlyDictionary<string, string>, double)>();
        foreach (var series in json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var labels = series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
            var value = double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
            result.Add((labels, value));
        }

        return result;
    }

    public Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string query, CancellationToken cancellationToken) =>
        QueryAsync(_http, Address, query, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _http.Dispose();
    }

    private async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with code {_process.ExitCode}; see its log");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri(Address, "-/ready"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"prometheus not ready at {Address} within {timeout.TotalSeconds:F0} s");
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private static string Config(IReadOnlyList<Target> targets, IReadOnlyList<string> rules)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"global:\n  scrape_interval: {ScrapeInterval.TotalSeconds:F0}s\n  evaluation_interval: {ScrapeInterval.TotalSeconds:F0}s");
        if (rules.Count > 0)
        {
            text.AppendLine("rule_files:");
            foreach (var rule in rules)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  - {JsonSerializer.Serialize(rule)}");
            }
        }

        text.AppendLine("scrape_configs:");
        foreach (var job in targets.GroupBy(t => t.Job))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  - job_name: {JsonSerializer.Serialize(job.Key)}\n    static_configs:");
            foreach (var target in job)
            {
                // JSON is YAML: labels are written as a JSON object, quoted as they must be.
                text.AppendLine(CultureInfo.InvariantCulture, $"      - targets: [\"{target.Host}:{target.Port}\"]\n        labels: {JsonSerializer.Serialize(target.Labels)}");
            }
        }

        return text.ToString();
    }
}
