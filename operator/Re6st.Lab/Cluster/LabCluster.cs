using System.Diagnostics;
using System.Globalization;
using System.Net;
using k8s;
using k8s.Models;
using Re6st.Core.Addressing;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Re6st.Operator.Resources;
using Re6st.Runtime;

namespace Re6st.Lab.Cluster;

/// <summary>
/// The whole system on one machine, as a user meets it: a real kube-apiserver and etcd, the operator
/// program, one host per network namespace registered as a Node with a region label and running the
/// agent program, the samples of config/samples/ applied, and a real Prometheus scraping it all.
/// Everything is removed on dispose, in the order a cluster would lose it (agents first).
/// </summary>
public sealed class LabCluster : IAsyncDisposable
{
    /// <summary>Regions dealt to the hosts in turn (the label a multi-region cluster's Nodes carry).</summary>
    public static readonly IReadOnlyList<string> Regions = ["eu-west", "us-east", "ap-south"];

    public const string RegionLabel = "topology.kubernetes.io/region";

    /// <summary>The label the sample Mesh selects its Nodes by.</summary>
    public const string MeshLabel = "re6st.io/mesh";

    /// <summary>
    /// Lab setting (the sample says 4s, a cluster's sane default): 1 s hellos let a mesh of namespaces
    /// converge within seconds.
    /// </summary>
    private const string HelloInterval = "1s";

    /// <summary>
    /// Lab settings on the sample policy (10 arrows, every pair connected below 8 hosts: sized for a
    /// real cluster): a dozen hosts would all connect to all, and the policy would have nothing to
    /// draw. 3 arrows per host, and the small-mesh exception only for 3 hosts or fewer.
    /// </summary>
    public const int ArrowsPerNode = 3;

    public const int SmallMeshSize = 3;

    private readonly LabClusterOptions _options;
    private readonly Action<string> _progress;
    private readonly List<LogFile> _logs = [];
    private readonly List<LabNode> _nodes = [];
    private readonly Dictionary<string, LabHost> _hosts = new(StringComparer.Ordinal);
    private AgentMesh? _mesh;
    private Process? _operator;
    private int _disposed;

    private LabCluster(LabClusterOptions options, NetnsLab lab, Action<string> progress)
    {
        _options = options;
        Lab = lab;
        _progress = progress;
        Api = new LocalApiServer(options.Repository, Path.Combine(options.Directory, "api"));
    }

    public NetnsLab Lab { get; }

    public LocalApiServer Api { get; }

    public LabPrometheus? Prometheus { get; private set; }

    public string Mesh { get; private set; } = "";

    public int OperatorMetricsPort { get; private set; }

    public IReadOnlyList<LabNode> Nodes => _nodes;

    /// <summary>The admin kubeconfig, copied where the user is told to find it.</summary>
    public string Kubeconfig => Path.Combine(_options.Directory, "kubeconfig");

    /// <summary>Brings the lab up and waits until the Mesh is Ready and every pair of hosts pings over it.</summary>
    /// <param name="progress">Told each step, for the user.</param>
    /// <param name="log">The details (the namespaces' lab, sweeps).</param>
    public static async Task<LabCluster> StartAsync(LabClusterOptions options, Action<string> progress, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        var lab = await NetnsLab.CreateAsync(log);
        var cluster = new LabCluster(options, lab, progress);
        try
        {
            await cluster.UpAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>What <c>lab status</c> and <c>lab down</c> need to find it all again.</summary>
    public LabState State(LabProcess labProcess, LabPhase phase) => new()
    {
        Lab = labProcess,
        Phase = phase,
        RunId = Lab.RunId,
        Mesh = Mesh,
        Order = _options.Order,
        Kubeconfig = Kubeconfig,
        ApiServerPort = Api.Port,
        PrometheusPort = Prometheus?.Port ?? 0,
        OperatorMetricsPort = OperatorMetricsPort,
        Nodes = _nodes,
        Processes =
        [
            .. Api.Pids.Select(pid => LabProcess.Of("kube-apiserver/etcd", pid)),
            .. _operator is { HasExited: false } op ? [LabProcess.Of("operator", op.Id)] : Array.Empty<LabProcess>(),
            .. Prometheus is { } p ? [LabProcess.Of("prometheus", p.ProcessId)] : Array.Empty<LabProcess>(),
            .. _nodes.Select(n => n.Agent).OfType<LabProcess>(),
        ],
    };

    /// <summary>The lab host of node <paramref name="name"/>, with the prefixes its MeshNode gave it.</summary>
    public LabHost Host(string name) => _hosts[name];

    /// <summary>Pings each ordered pair once, a bounded number at a time (a ping is a process).</summary>
    public static async Task<IReadOnlyList<string>> UnreachablePairsAsync(IReadOnlyList<LabHost> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        using var turns = new SemaphoreSlim(16);
        var pings = hosts.SelectMany(f => hosts.Where(t => t != f).Select(t => (f, t))).Select(async pair =>
        {
            await turns.WaitAsync();
            try
            {
                var result = await Command.RunAsync("ip", ["netns", "exec", pair.f.Namespace, "ping", "-6", "-n", "-q", "-c", "1", "-W", "1", "-I", pair.f.Ipv6Address, pair.t.Ipv6Address], check: false);
                return (pair, result.ExitCode);
            }
            finally
            {
                turns.Release();
            }
        });
        return [.. (await Task.WhenAll(pings)).Where(x => x.ExitCode != 0).Select(x => $"{x.pair.f.Name}->{x.pair.t.Name}")];
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var errors = new List<Exception>();
        async Task Step(Func<Task> step)
        {
            try
            {
                await step();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                errors.Add(e);
            }
        }

        // Agents stop cleanly first (tunnels, babeld, announcements), while the API server still answers.
        if (_mesh is not null)
        {
            await Step(() => _mesh.DisposeAsync().AsTask());
        }

        if (_operator is not null)
        {
            await Step(async () =>
            {
                if (!_operator.HasExited)
                {
                    _operator.Kill();
                    await _operator.WaitForExitAsync();
                }

                _operator.Dispose();
            });
        }

        if (Prometheus is not null)
        {
            await Step(() => Prometheus.DisposeAsync().AsTask());
        }

        await Step(() => Api.DisposeAsync().AsTask());
        await Step(() => Lab.DisposeAsync().AsTask());
        foreach (var log in _logs)
        {
            log.Dispose();
        }

        if (errors.Count > 0)
        {
            throw new AggregateException("the lab did not stop cleanly", errors);
        }
    }

    private async Task UpAsync(CancellationToken cancellationToken)
    {
        var logs = Path.Combine(_options.Directory, "logs");
        Directory.CreateDirectory(logs);
        _progress("starting etcd and kube-apiserver (the first run builds kube-apiserver from Debian's source package: about 5 minutes)");
        await Api.StartAsync();
        File.Copy(Api.AdminKubeconfig, Kubeconfig, overwrite: true);
        File.SetUnixFileMode(Kubeconfig, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        OperatorMetricsPort = AgentMesh.FreePort();
        _progress($"starting the operator (metrics at 127.0.0.1:{OperatorMetricsPort})");
        _operator = ProcessRunner.StartLogged(
            "dotnet",
            [_options.OperatorProgram, "--kubeconfig", Api.OperatorKubeconfig, "--namespace", LocalApiServer.OperatorNamespace, "--metrics", $"127.0.0.1:{OperatorMetricsPort}"],
            Path.Combine(logs, "operator.log"));

        Mesh = await ApplySamplesAsync(cancellationToken);
        var names = LabOperator.HostNames(_options.Nodes);
        _progress($"registering {names.Count} Nodes, in regions {string.Join(", ", Regions.Take(names.Count))}");
        for (var i = 0; i < names.Count; i++)
        {
            var labels = new Dictionary<string, string> { [MeshLabel] = "enabled", [RegionLabel] = Regions[i % Regions.Count] };
            await Api.Admin.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = names[i], Labels = labels } }, cancellationToken: cancellationToken);
        }

        var meshNodes = await WaitForMeshNodesAsync(names.Count, TimeSpan.FromSeconds(90), cancellationToken);
        _progress($"the operator planned {meshNodes.Count} MeshNodes; creating the hosts (network namespaces on one underlay switch)");
        _mesh = await AgentMesh.CreateEmptyAsync(Lab);
        for (var i = 0; i < names.Count; i++)
        {
            var spec = meshNodes.Single(n => n.Spec.Node == names[i]).Spec;
            var host = await _mesh.AddUnderlayHostAsync(names[i], IpPrefix.Parse(spec.Ipv6Prefix), spec.Ipv4Prefix is { } v4 ? IpPrefix.Parse(v4) : null, announce: false);
            _hosts[host.Name] = host;
        }

        _progress($"starting {names.Count} agents (logs in {logs})");
        for (var i = 0; i < names.Count; i++)
        {
            var host = _hosts[names[i]];
            var port = AgentMesh.FreePort();
            var log = new LogFile(Path.Combine(logs, $"agent-{host.Name}.log"));
            _logs.Add(log);
            string[] source = ["--kubeconfig", Api.AgentKubeconfig, "--mesh", Mesh];
            if (_options.Seed is { } seed)
            {
                source = [.. source, "--seed", seed.ToString(CultureInfo.InvariantCulture)];
            }

            var agent = _mesh.Adopt(AgentProcess.Start(Lab, host, AgentMesh.UnderlayAddress(host).ToString(), port, source, log.Write));
            _nodes.Add(new LabNode(host.Name, host.Namespace, Regions[i % Regions.Count], _mesh.UnderlayInterface(host), port, LabProcess.Of($"agent {host.Name}", agent.ProcessId)));
        }

        var prometheusPort = PortOr(9090);
        _progress($"starting Prometheus at http://127.0.0.1:{prometheusPort}/ (scrapes the operator and every agent, with config/prometheus/rules.yml)");
        var regions = _nodes.ToDictionary(n => n.Name, n => n.Region, StringComparer.Ordinal);
        Prometheus = await LabPrometheus.StartAsync(
            Path.Combine(_options.Directory, "prometheus"),
            prometheusPort,
            [
                new("re6st-operator", OperatorMetricsPort, new Dictionary<string, string>()),
                .. _nodes.Select(n => new LabPrometheus.Target("re6st-agent", n.MetricsPort, new Dictionary<string, string> { ["region"] = regions[n.Name] })),
            ],
            [Path.Combine(_options.Repository, "config", "prometheus", "rules.yml")],
            cancellationToken);

        await WaitReadyAsync(TimeSpan.FromSeconds(240), cancellationToken);
    }

    /// <summary>
    /// kubectl apply -f config/samples/, as a user would, then the lab's own settings: on the sample
    /// Mesh the order asked for, with 2 sub-meshes per level (the sample's expectedNodes sizes them
    /// for 400 hosts, which a dozen would not split), and short hellos; on its policy, fewer arrows.
    /// </summary>
    private async Task<string> ApplySamplesAsync(CancellationToken cancellationToken)
    {
        var samples = Path.Combine(_options.Repository, "config", "samples");
        _progress($"kubectl apply -f {samples}");
        await KubectlAsync(["apply", "-f", samples], cancellationToken);
        var meshes = (await KubectlAsync(["get", "meshes", "-o", "jsonpath={.items[*].metadata.name}"], cancellationToken)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (meshes.Length != 1)
        {
            throw new InvalidOperationException($"{samples} must define exactly one Mesh for the lab; it defines {meshes.Length} ({string.Join(", ", meshes)})");
        }

        var subMeshes = _options.Order == 1 ? "null" : "[" + string.Join(',', Enumerable.Repeat(2, _options.Order - 1)) + "]";
        var patch = "{\"spec\":{\"order\":" + _options.Order.ToString(CultureInfo.InvariantCulture) + ",\"subMeshes\":" + subMeshes
            + ",\"expectedNodes\":null,\"babel\":{\"helloInterval\":\"" + HelloInterval + "\"}}}";
        _progress($"lab settings on Mesh {meshes[0]}: order {_options.Order}{(_options.Order > 1 ? $", sub-meshes {subMeshes}" : "")}, hello interval {HelloInterval}");
        await KubectlAsync(["patch", "mesh", meshes[0], "--type", "merge", "-p", patch], cancellationToken);
        var policy = (await KubectlAsync(["get", "mesh", meshes[0], "-o", "jsonpath={.spec.policyRef}"], cancellationToken)) is { Length: > 0 } named ? named : "default";
        _progress($"lab settings on RandomizationPolicy {policy}: {ArrowsPerNode} arrows per host, small-mesh size {SmallMeshSize}");
        await KubectlAsync(["patch", "randomizationpolicy", policy, "--type", "merge", "-p", $"{{\"spec\":{{\"arrowsPerNode\":{ArrowsPerNode},\"smallMeshSize\":{SmallMeshSize}}}}}"], cancellationToken);
        return meshes[0];
    }

    private async Task<string> KubectlAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (code, output) = await CommandRunner.RunAsync(_options.Kubectl, ["--kubeconfig", Kubeconfig, .. args], TimeSpan.FromSeconds(60), cancellationToken: cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return code == 0 ? output.Trim() : throw new InvalidOperationException($"kubectl {string.Join(' ', args)}: {output.Trim()}");
    }

    private async Task<IReadOnlyList<V1Alpha1MeshNode>> WaitForMeshNodesAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var nodes = await LabSnapshot.MeshNodesAsync(Api.Admin, Mesh, cancellationToken);
            if (nodes.Count == count)
            {
                return nodes;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the operator made {nodes.Count} of {count} MeshNodes within {timeout.TotalSeconds:F0} s; see logs/operator.log");
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    private async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        _progress($"waiting for Mesh {Mesh} to be Ready");
        string? condition;
        while ((condition = await LabSnapshot.ReadyAsync(Api.Admin, Mesh, cancellationToken)) is not null)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Mesh {Mesh} not Ready within {timeout.TotalSeconds:F0} s: {condition}");
            }

            await Task.Delay(1000, cancellationToken);
        }

        _progress($"Mesh {Mesh} is Ready; waiting until all {_hosts.Count * (_hosts.Count - 1)} pairs of hosts ping over the mesh");
        await WaitUntilEveryPairPingsAsync(_ => Task.FromResult<IReadOnlyList<LabHost>>([.. _hosts.Values]), _hosts.Count, deadline, timeout, _progress, cancellationToken);
    }

    /// <summary>
    /// Pings every ordered pair of <paramref name="hosts"/> (read again at each round: their prefixes
    /// may come late) each second until all answer; says how many do when it changes.
    /// </summary>
    /// <param name="hosts">The hosts with their mesh prefixes; throws <see cref="InvalidOperationException"/> when they are not known yet.</param>
    public static async Task WaitUntilEveryPairPingsAsync(
        Func<CancellationToken, Task<IReadOnlyList<LabHost>>> hosts, int count, DateTime deadline, TimeSpan timeout, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentNullException.ThrowIfNull(progress);
        var pairs = count * (count - 1);
        var said = -1;
        while (true)
        {
            IReadOnlyList<string> failing;
            try
            {
                failing = await UnreachablePairsAsync(await hosts(cancellationToken));
            }
            catch (InvalidOperationException e) when (DateTime.UtcNow < deadline)
            {
                // Not every host has its prefixes yet: nothing to ping at.
                progress($"waiting: {e.Message}");
                await Task.Delay(1000, cancellationToken);
                continue;
            }

            if (failing.Count == 0)
            {
                progress($"all {pairs} pairs of hosts ping over the mesh");
                return;
            }

            if (failing.Count != said)
            {
                progress($"{pairs - failing.Count} of {pairs} pairs ping over the mesh");
                said = failing.Count;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not every pair pings within {timeout.TotalSeconds:F0} s; failing: {string.Join(", ", failing.Take(20))}");
            }

            await Task.Delay(1000, cancellationToken);
        }
    }

    /// <summary><paramref name="preferred"/> when nothing listens there, else any free port.</summary>
    public static int PortOr(int preferred)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, preferred);
            listener.Start();
            return preferred;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return AgentMesh.FreePort();
        }
    }
}
