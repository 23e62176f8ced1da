using Re6st.Agent.Lifecycle;
using Re6st.Agent.Metrics;
using Re6st.Lab;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Re6st.Runtime;

namespace Re6st.Lab.Tests.Lifecycle;

/// <summary>
/// One scrape of an agent's metrics endpoint over HTTP, as Prometheus does it; the text is also
/// checked by promtool (required in CI: test.sh installs it).
/// </summary>
public sealed class Scrape
{
    private readonly MetricsText _samples;

    private Scrape(string text)
    {
        _samples = new MetricsText(text);
    }

    public string Text => _samples.Text;

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
    public double Value(string name, params (string Key, string Value)[] labels) => _samples.Value(name, labels);

    public bool Has(string name) => _samples.Has(name);

    private static async Task CheckAsync(string text)
    {
        if (!CommandRunner.OnPath("promtool"))
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
}
