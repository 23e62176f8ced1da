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
using Re6st.Core.Randomness;
using Re6st.Runtime;

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
            // The message says what failed; the frame of the project's own code that met it says
            // where (a parse error from the base library names neither the file nor the field).
            var origin = e.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("at Re6st.", StringComparison.Ordinal));
            Log($"re6st-agent: {e.Message}{(origin is null ? "" : $" ({origin})")}");
            return 1;
        }
    }

    public static async Task<int> RunAsync(AgentCommandLine line, Action<string> log, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(log);
        var options = line.Agent;
        var facts = await HostRequirements.ReadAsync(options.Technologies, stop).ConfigureAwait(false);
        if (HostRequirements.Missing(facts, options.Technologies) is { Count: > 0 } missing)
        {
            log($"re6st-agent: this host lacks what the agent needs:\n  - {string.Join("\n  - ", missing)}");
            return 3;
        }

        using var tracer = TraceExport.Start(line.Traces, "re6st-agent", options.Node, AgentTracing.SourceName);
        await using var sources = new SourceScope();
        IMembershipSource source;
        KubeApiClient? api = null;
        if (line.MembershipDirectory is { } directory)
        {
            source = new DirectoryMembershipSource(directory, options.Node);
            options = options with { Key = AgentCommandLine.ReadKeys(line.BabelKeyFile!)[0] };
        }
        else
        {
            var connection = line.Kubeconfig is { } file ? KubeConnection.FromKubeconfig(file) : KubeConnection.InCluster();
            var client = api = sources.Own(new KubeApiClient(connection));
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
        var pod = PodEscape.Detect();
        if (pod.InPod)
        {
            log(pod.Escape is { } escape
                ? $"{options.Node}: in a pod: tunnel processes are kept outside it ({string.Join(", ", escape.Directories)}) so that they outlive it"
                : $"{options.Node}: in a pod whose processes cannot leave it ({pod.Trapped}): userspace tunnels go with each restart");
        }

        await using var agent = new HostAgent(options, source, new HostShell(line.Netns) { Escape = pod.Escape, ProcessesOutliveAgent = pod.ProcessesOutliveAgent }, TimeProvider.System, random, log);
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

        if (await HandsOverAsync(line, api, source, log).ConfigureAwait(false))
        {
            // Within the pod's grace period (30 s in the chart): the peers stand in within a few ticks.
            using var handOver = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await agent.HandOverAsync(TimeSpan.FromSeconds(6), handOver.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or HostCommandException or IOException or HttpRequestException or KubeApiException)
            {
                log($"{options.Node}: the hand-over did not finish ({e.Message}); what is in place stays for the next run");
            }
        }

        log($"{options.Node}: stopping");
        return 0;
    }

    /// <summary>Whether to hand the host over to the agent's next run rather than clean it (<see cref="StopMode"/>).</summary>
    private static async Task<bool> HandsOverAsync(AgentCommandLine line, KubeApiClient? api, IMembershipSource source, Action<string> log)
    {
        var node = line.Agent.Node;
        switch (line.OnStop)
        {
            case StopMode.Clean:
                return false;
            case StopMode.HandOver:
                return true;
        }

        if (api is null || line.DaemonSet is not var (ns, name))
        {
            return false;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            var daemonSet = await api.GetAsync($"/apis/apps/v1/namespaces/{ns}/daemonsets/{name}", KubeJsonContext.Default.MetadataObject, timeout.Token).ConfigureAwait(false);
            if (daemonSet.Metadata.DeletionTimestamp is not null)
            {
                log($"{node}: DaemonSet {ns}/{name} is being deleted: a clean stop");
                return false;
            }

            if (await source.ReadAsync(timeout.Token).ConfigureAwait(false) is null)
            {
                log($"{node}: this host's MeshNode is gone (it left the mesh): a clean stop");
                return false;
            }

            log($"{node}: DaemonSet {ns}/{name} remains: handing the host over to the agent's next run");
            return true;
        }
        catch (KubeApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
        {
            log($"{node}: DaemonSet {ns}/{name} is gone (uninstalled): a clean stop");
            return false;
        }
        catch (KubeApiException e) when (e.Status is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
        {
            // helm uninstall removes the agent's service account and role along with its DaemonSet,
            // often before the pods get their SIGTERM.
            log($"{node}: the agent may no longer read its DaemonSet ({(int)e.Status}: its service account or role is gone, uninstalled): a clean stop");
            return false;
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or OperationCanceledException or InvalidDataException)
        {
            // helm uninstall talks to the API server, so an agent that cannot reach it is not
            // being uninstalled: its traffic matters more than a leftover its next run removes.
            log($"{node}: cannot tell whether the agent is uninstalled ({e.Message}): handing the host over");
            return true;
        }
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
