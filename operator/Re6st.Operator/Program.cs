using k8s;
using Microsoft.Extensions.Logging;
using Re6st.Operator;
using Re6st.Runtime;

// re6st-operator [--kubeconfig FILE] [--namespace NS] [--id NAME] [--no-leader-election] [--metrics HOST:PORT|off] [--traces URL|off]
const string Usage = "usage: re6st-operator [--kubeconfig FILE] [--namespace NS] [--id NAME] [--no-leader-election] [--metrics HOST:PORT|off (default 0.0.0.0:9653)] [--traces URL|off (default $OTEL_EXPORTER_OTLP_ENDPOINT, else off)]";
string? kubeconfig = null;
(string Host, int Port)? metricsAt = ("+", 9653);
string? tracesOption = null;
TraceTarget traces;
var options = new OperatorOptions
{
    Namespace = Environment.GetEnvironmentVariable("POD_NAMESPACE") ?? "re6st-system",
    Identity = Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.MachineName,
};
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--kubeconfig":
            kubeconfig = Next();
            break;
        case "--namespace":
            options = options with { Namespace = Next() };
            break;
        case "--id":
            options = options with { Identity = Next() };
            break;
        case "--no-leader-election":
            options = options with { LeaderElection = false };
            break;
        case "--metrics":
            try
            {
                metricsAt = MetricsEndpoint.ParseAddress(Next());
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"re6st-operator: {e.Message}");
                Console.Error.WriteLine(Usage);
                return 2;
            }

            break;
        case "--traces":
            tracesOption = Next();
            break;
        default:
            Console.Error.WriteLine($"re6st-operator: unknown argument '{args[i]}'");
            Console.Error.WriteLine(Usage);
            return 2;
    }
}

try
{
    traces = TraceTarget.Parse(tracesOption, Environment.GetEnvironmentVariable);
}
catch (FormatException e)
{
    Console.Error.WriteLine($"re6st-operator: {e.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

var config = kubeconfig is not null
    ? KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)
    : KubernetesClientConfiguration.IsInCluster()
        ? KubernetesClientConfiguration.InClusterConfig()
        : KubernetesClientConfiguration.BuildDefaultConfig();
using var client = new Kubernetes(config);
using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
using var tracer = TraceExport.Start(traces, "re6st-operator", options.Identity, OperatorTracing.SourceName);
using var operatorHost = new OperatorHost(client, options, logs, TimeProvider.System);
await using var endpoint = metricsAt is var (metricsHost, metricsPort) ? MetricsEndpoint.Start(operatorHost.Metrics.Registry, metricsHost, metricsPort) : null;
await operatorHost.RunAsync(stop.Token).ConfigureAwait(false);

// A replica that lost the lease exits, so its pod restarts as a clean candidate.
return stop.IsCancellationRequested ? 0 : 1;
