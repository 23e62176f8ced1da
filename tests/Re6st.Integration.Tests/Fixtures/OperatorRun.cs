using k8s;
using Microsoft.Extensions.Logging;
using Re6st.Operator;

namespace Re6st.Integration.Tests.Fixtures;

/// <summary>The operator, in-process, talking to the test API server with its own least-privilege token.</summary>
public sealed class OperatorRun : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private readonly Kubernetes _client;
    private readonly ILoggerFactory _logs;
    private bool _disposed;

    private OperatorRun(ApiServer server, OperatorOptions options)
    {
        _client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(server.OperatorKubeconfig));
        _logs = LoggerFactory.Create(b => b.AddProvider(Log).SetMinimumLevel(LogLevel.Information));
        Host = new OperatorHost(_client, options, _logs, TimeProvider.System);
        _run = Task.Run(() => Host.RunAsync(_stop.Token));
    }

    public OperatorHost Host { get; }

    public MemoryLogger Log { get; } = new();

    public Task Completion => _run;

    public static async Task<OperatorRun> StartAsync(ApiServer server, bool leaderElection = false, string? identity = null)
    {
        var run = new OperatorRun(server, new OperatorOptions
        {
            Namespace = ApiServer.OperatorNamespace,
            Identity = identity ?? "test-" + Guid.NewGuid().ToString("N")[..8],
            LeaderElection = leaderElection,
            Debounce = TimeSpan.FromMilliseconds(100),
            ResyncPeriod = TimeSpan.FromSeconds(2),
        });
        if (!leaderElection)
        {
            await run.Host.Ready.WaitAsync(TimeSpan.FromSeconds(30));
        }

        return run;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (OperationCanceledException)
        {
        }

        Host.Dispose();
        _logs.Dispose();
        _client.Dispose();
        _stop.Dispose();
    }
}
