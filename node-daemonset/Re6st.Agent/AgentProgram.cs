using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Re6st.Agent.Babel;
using Re6st.Agent.Host;
using Re6st.Agent.Kube;
using Re6st.Agent.Lifecycle;
using Re6st.Agent.Membership;
using Re6st.Agent.Metrics;
using Re6st.Agent.Tracing;
using Re6st.Operator.Runtime;
using Re6st.Core.Randomness;

namespace Re6st.Agent;

/// <summary>
/// The agent process: reads its command line, picks the membership source (MeshNode objects in a
/// cluster, a shared directory otherwise), serves metrics, and runs the host's <see cref="HostAgent"/>
/// until SIGTERM or SIGINT, then shuts down cleanly (babeld retracts its routes, every arrow and
/// announcement goes).
/// </summary>
public static class AgentProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        AgentCommandLine line;
        try
        {
            line = AgentCommandLine.Parse(args, Environment.GetEnvironmentVariable);
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync($"re6st-agent: {e.Message}\n{AgentCommandLine.Usage}").ConfigureAwait(false);
            return 2;
        }

        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        try
        {
            return await RunAsync(line, Log, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or HostCommandException or IOException)
        {
            Log($"re6st-agent: {e.Message}");
            return 1;
        }
    }

    public static async Task<int> RunAsync(AgentCommandLine line, Action<string> log, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(log);
        var options = line.Agent;
        if (HostRequirements.Missing(HostRequirements.Read(options.Technologies), options.Technologies) is { Count: > 0 } missing)
        {
            log($"re6st-agent: this host lacks what the agent needs:\n  - {string.Join("\n  - ", missing)}");
            return 3;
        }

        using var tracer = TraceExport.Start(line.Traces, "re6st-agent", options.Node, AgentTracing.SourceName);
        await using var sources = new SourceScope();
        IMembershipSource source;
        if (line.MembershipDirectory is { } directory)
        {
            source = new DirectoryMembershipSource(directory, options.Node);
            options = options with { Key = AgentCommandLine.ReadKeys(line.BabelKeyFile!)[0] };
        }
        else
        {
            var connection = line.Kubeconfig is { } file ? KubeConnection.FromKubeconfig(file) : KubeConnection.InCluster();
            var client = sources.Own(new KubeApiClient(connection));
            var cluster = MeshNodeMembershipSource.Start(client, options.Node, options.Mesh);
            sources.Own(cluster);
            source = cluster;
            log($"{options.Node}: waiting for MeshNode {options.Node}.{options.Mesh} and the mesh's Babel keys");
            BabelKeyRing? keys;
            while ((keys = await cluster.ReadKeysAsync(stop).ConfigureAwait(false)) is null)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
            }

            options = options with { Key = keys.Signing };
        }

        // Arrow choices need no secrecy, only independence between hosts: a fresh seed per start,
        // or the given one on a stream of the host's own (the same seed on every host of a lab).
        var random = line.Seed is { } seed
            ? Xoshiro256StarStar.ForStream(seed, SeedMixer.Hash(options.Node))
            : Xoshiro256StarStar.ForStream(BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)), 0);
        await using var agent = new HostAgent(options, source, new HostShell(line.Netns), TimeProvider.System, random, log);
        await using var endpoint = line.Metrics is var (host, port) ? MetricsEndpoint.Start(agent.Metrics.Registry, host, port) : null;
        if (endpoint is not null)
        {
            log($"{options.Node}: metrics at {endpoint.Address}");
        }

        if (tracer is not null)
        {
            log($"{options.Node}: traces to {line.Traces}");
        }

        try
        {
            await agent.StartAsync(stop).ConfigureAwait(false);
            log($"{options.Node}: running in mesh {options.Mesh}");
            await agent.RunAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        log($"{options.Node}: stopping");
        return 0;
    }

    private static void Log(string line) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {line}"));

    /// <summary>What the membership source holds (client, watches), released after the agent stopped.</summary>
    private sealed class SourceScope : IAsyncDisposable
    {
        private readonly List<object> _owned = [];

        public T Own<T>(T resource)
            where T : class
        {
            _owned.Add(resource);
            return resource;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var resource in Enumerable.Reverse(_owned))
            {
                switch (resource)
                {
                    case IAsyncDisposable a:
                        await a.DisposeAsync().ConfigureAwait(false);
                        break;
                    case IDisposable d:
                        d.Dispose();
                        break;
                }
            }
        }
    }
}
