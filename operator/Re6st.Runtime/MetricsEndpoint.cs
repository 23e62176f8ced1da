using Prometheus;

namespace Re6st.Runtime;

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

    /// <summary>
    /// A --metrics value: "HOST:PORT" (0.0.0.0, :: or * for every address), or "off" (null).
    /// Throws a FormatException that names the option.
    /// </summary>
    public static (string Host, int Port)? ParseAddress(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text == "off")
        {
            return null;
        }

        var colon = text.LastIndexOf(':');
        var host = colon > 0 ? text[..colon].Trim('[', ']') : "";
        return colon > 0 && int.TryParse(text[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? (host is "0.0.0.0" or "::" or "*" ? "+" : host, port)
            : throw new FormatException($"--metrics: '{text}' is not HOST:PORT (or 'off')");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _server.StopAsync().ConfigureAwait(false);
        }
        catch (System.Net.HttpListenerException)
        {
            // CAVEAT: the managed HttpListener, as it closes, looks its endpoint up again and may try
            // to bind it anew, which fails ("Address already in use") when the port was meanwhile
            // taken by another listener (seen once in a test run with labs in parallel). The
            // endpoint no longer serves either way.
        }
    }
}
