using Prometheus;

namespace Re6st.Operator.Runtime;

/// <summary>Serves a registry at http://host:port/metrics in the Prometheus text format (the operator and the agent).</summary>
public sealed class MetricsEndpoint : IAsyncDisposable
{
    private readonly MetricServer _server;

    private MetricsEndpoint(MetricServer server, Uri address)
    {
        _server = server;
        Address = address;
    }

    public Uri Address { get; }

    /// <param name="host">"127.0.0.1", "+" (every address) or a host name.</param>
    public static MetricsEndpoint Start(CollectorRegistry registry, string host, int port)
    {
        var server = new MetricServer(host, port, "metrics/", registry);
        server.Start();
        var shown = host is "+" or "*" ? "127.0.0.1" : host;
        return new MetricsEndpoint(server, new Uri($"http://{shown}:{port}/metrics"));
    }

    public async ValueTask DisposeAsync() => await _server.StopAsync().ConfigureAwait(false);
}
