using System.Globalization;
using System.Text.RegularExpressions;
using Re6st.Agent.Lifecycle;
using Re6st.Agent.Metrics;
using Re6st.Operator.Runtime;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;

namespace Re6st.Agent.Tests.Lifecycle;

/// <summary>
/// One scrape of an agent's metrics endpoint over HTTP, as Prometheus does it; the text is also
/// checked by promtool (required in CI: test.sh installs it).
/// </summary>
public sealed partial class Scrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    private Scrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            var m = Sample().Match(line);
            Assert.True(m.Success, "not a sample line: " + line);
            var labels = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
            _samples.Add((m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    /// <summary>Serves an in-process agent's registry on a loopback port for one scrape.</summary>
    public static async Task<Scrape> Async(HostAgent agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        await using var endpoint = MetricsEndpoint.Start(agent.Metrics.Registry, "127.0.0.1", AgentMesh.FreePort());
        return await Async(endpoint.Address);
    }

    /// <summary>Scrapes a running endpoint (an agent process's).</summary>
    public static async Task<Scrape> Async(Uri address)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(address);
        await CheckAsync(text);
        return new Scrape(text);
    }

    /// <summary>The sum of the samples of <paramref name="name"/> that carry all of <paramref name="labels"/>.</summary>
    public double Value(string name, params (string Key, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).Sum(s => s.Value);

    public bool Has(string name) => _samples.Any(s => s.Name == name);

    private static async Task CheckAsync(string text)
    {
        if (!Command.OnPath("promtool"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "promtool is missing (Debian package prometheus; test.sh installs it)");
            return;
        }

        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, text);
            var check = await Command.RunAsync("sh", ["-c", $"promtool check metrics < {file}"], check: false);
            Assert.True(check.ExitCode == 0, "promtool check metrics: " + check.Output + check.Error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(\w+)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
