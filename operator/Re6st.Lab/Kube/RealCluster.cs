using System.Globalization;
using System.Net;
using k8s;
using k8s.Models;
using Re6st.Core.Addressing;
using Re6st.Lab.Cluster;
using Re6st.Lab.Netns;
using Re6st.Runtime;
using YamlDotNet.RepresentationModel;

namespace Re6st.Lab.Kube;

/// <summary>What a real-node lab is made of.</summary>
public sealed record RealClusterOptions
{
    /// <summary>The checkout: helm/re6st, the Dockerfiles, tests/tools and .tools/.</summary>
    public required string Repository { get; init; }

    public int Nodes { get; init; } = 4;

    /// <summary>The mesh's order (1: one mesh; 2 or 3: sub-meshes of 2 per level, as the process lab makes them).</summary>
    public int Order { get; init; } = 1;

    /// <summary>Where Debian image bases are kept between labs.</summary>
    public string ImageCache { get; init; } = LabImages.DefaultCache;

    /// <summary>The native re6st-agent the build published (it goes into the agent's image).</summary>
    public string AgentProgram { get; init; } = Path.Combine(AppContext.BaseDirectory, "agent", "re6st-agent");

    /// <summary>Where a Prometheus scraping every agent listens on this machine (none when null).</summary>
    public int? PrometheusPort { get; init; }

    public string Kubectl => Path.Combine(Repository, ".tools", "kubectl");

    public string Helm => Path.Combine(Repository, ".tools", "helm");
}

/// <summary>
/// A real Kubernetes cluster on this machine: a control plane in one network namespace and each host
/// a real node (containerd, kubelet, kube-proxy) in its own, all on one switch that this machine
/// reaches through a link of its own (so kubectl and helm work from here). re6st is installed on it
/// with <c>helm install</c> of helm/re6st, from images built here: the operator runs as its
/// Deployment's pod and each agent as its DaemonSet's pod, with their mounted service-account
/// tokens. Everything is removed on dispose; a crashed lab's debris goes with the next lab's sweep.
/// </summary>
public sealed class RealCluster : IAsyncDisposable
{
    public const string Release = "re6st";

    public const string Namespace = "re6st-system";

    /// <summary>Lab setting: 1 s hellos let a mesh of namespaces converge within seconds.</summary>
    public const string HelloInterval = "1s";

    /// <summary>The chart's agent.metricsPort: the first mesh's agents serve metrics there, on each node's address.</summary>
    public const int AgentMetricsPort = 9652;

    private readonly RealClusterOptions _options;
    private readonly Action<string> _progress;
    private readonly List<KubeNode> _nodes = [];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly Dictionary<string, double> _timeline = new(StringComparer.Ordinal);
    private int _disposed;

    private RealCluster(RealClusterOptions options, NetnsLab lab, Action<string> progress)
    {
        _options = options;
        Lab = lab;
        _progress = progress;
    }

    public NetnsLab Lab { get; }

    public KubeControlPlane ControlPlane { get; private set; } = null!;

    public IReadOnlyList<KubeNode> Nodes => _nodes;

    public string Kubeconfig => ControlPlane.AdminKubeconfig;

    public Kubernetes Admin => ControlPlane.Admin;

    /// <summary>The path of the kubectl the lab runs.</summary>
    public string Kubectl => _options.Kubectl;

    /// <summary>The Mesh the chart made ("demo", the chart's default).</summary>
    public string Mesh { get; private set; } = "";

    public LabPrometheus? Prometheus { get; private set; }

    /// <summary>
    /// Seconds from the start to each step: imagesBuilt, controlPlaneAnswers, nodesRegistered,
    /// podsRunning (every agent pod and the operator's), nodesReady (once the agents wrote the pod
    /// network), allPairsPing.
    /// </summary>
    public IReadOnlyDictionary<string, double> Timeline => _timeline;

    /// <summary>
    /// Resident memory (MiB, from /proc/PID/status) of each node's processes by kind (kubelet,
    /// containerd, kube-proxy, shims with their pause containers, the agent pod's programs, the
    /// operator pod's), and of the control plane's by program.
    /// </summary>
    public async Task<(IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Nodes, IReadOnlyDictionary<string, double> ControlPlane)> FootprintAsync()
    {
        static string Kind(string comm) => comm switch
        {
            "kubelet" or "containerd" or "kube-proxy" => comm,
            "containerd-shim" or "containerd-shim-runc-v2" or "pause" => "shims",
            "re6st-agent" or "babeld" or "wireguard-go" or "openvpn" => "agentPod",
            "re6st-operator" => "operatorPod",
            _ => "other",
        };

        var nodes = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var node in _nodes)
        {
            nodes[node.Host.Name] = await ResidentByAsync(LabCgroups.ProcessesOf(node.Cgroup), Kind);
        }

        var controlPlane = (await Command.RunAsync("ip", ["netns", "pids", ControlPlane.Host.Namespace], check: false)).Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToList();
        return (nodes, await ResidentByAsync(controlPlane, comm => comm));
    }

    private static async Task<IReadOnlyDictionary<string, double>> ResidentByAsync(IEnumerable<int> pids, Func<string, string> kind)
    {
        var sums = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var pid in pids)
        {
            try
            {
                var comm = (await File.ReadAllTextAsync($"/proc/{pid}/comm")).Trim();
                var rss = (await File.ReadAllLinesAsync($"/proc/{pid}/status")).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                if (rss is not null)
                {
                    var kib = double.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                    sums[kind(comm)] = sums.GetValueOrDefault(kind(comm)) + Math.Round(kib / 1024, 1);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Exited meanwhile.
            }
        }

        return sums;
    }

    /// <summary>What <c>lab status</c> and <c>lab down</c> need to find it all again (its processes die with its namespaces and cgroups).</summary>
    public LabState State(LabProcess labProcess, LabPhase phase, string kubeconfig) => new()
    {
        Lab = labProcess,
        Phase = phase,
        Kind = LabKind.RealNodes,
        RunId = Lab.RunId,
        Mesh = Mesh,
        Order = _options.Order,
        Kubeconfig = kubeconfig,
        ApiServerPort = KubeControlPlane.Port,
        PrometheusPort = Prometheus?.Port ?? 0,
        Nodes = [.. _nodes.Select((n, i) => new LabNode(n.Host.Name, n.Host.Namespace, LabCluster.Regions[i % LabCluster.Regions.Count], "", AgentMetricsPort, null) { MetricsHost = n.Address.ToString() })],
        Processes = Prometheus is { } p ? [LabProcess.Of("prometheus", p.ProcessId)] : [],
    };

    /// <summary>Brings up the control plane and the nodes (Ready), then installs re6st with helm and waits until every pair of hosts pings over the mesh.</summary>
    public static async Task<RealCluster> StartAsync(RealClusterOptions options, Action<string> progress, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        if (options.Nodes is < 2 or > 26)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Nodes, "nodes: 2 to 26");
        }

        var lab = await NetnsLab.CreateAsync(log);
        var cluster = new RealCluster(options, lab, progress);
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

    /// <summary>Runs kubectl against the cluster; returns its output, or throws with it.</summary>
    public Task<string> KubectlAsync(IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        ToolAsync(_options.Kubectl, ["--kubeconfig", Kubeconfig, .. args], cancellationToken);

    /// <summary>Runs helm against the cluster; returns its output, or throws with it.</summary>
    public Task<string> HelmAsync(IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        ToolAsync(_options.Helm, ["--kubeconfig", Kubeconfig, .. args], cancellationToken);

    /// <summary>The hosts with the node prefixes their MeshNodes gave them, for pings over the mesh.</summary>
    public async Task<IReadOnlyList<LabHost>> MeshHostsAsync(CancellationToken cancellationToken)
    {
        var meshNodes = await LabSnapshot.MeshNodesAsync(Admin, Mesh, cancellationToken);
        return [.. _nodes.Select(n => meshNodes.FirstOrDefault(m => m.Spec.Node == n.Host.Name) is { } m
            ? n.Host with { Ipv6Prefix = IpPrefix.Parse(m.Spec.Ipv6Prefix), Ipv4Prefix = m.Spec.Ipv4Prefix is { } v4 ? IpPrefix.Parse(v4) : n.Host.Ipv4Prefix }
            : throw new InvalidOperationException($"node {n.Host.Name} has no MeshNode in mesh {Mesh}"))];
    }

    /// <summary>
    /// What re6st left on the nodes: its interfaces (arrows and their tombstones), babeld,
    /// wireguard-go or OpenVPN processes, its nft tables, Babel's routes, the pod network's CNI
    /// configuration and guard routes, and addresses of the mesh's ranges. Empty once re6st is gone
    /// from a cluster.
    /// </summary>
    public async Task<IReadOnlyList<string>> LeftoversAsync(CancellationToken cancellationToken)
    {
        // The agent keeps its tunnel processes in a cgroup of this name beside the kubelet's (Re6st.Agent.Host.PodEscape).
        var left = new List<string>();
        foreach (var node in _nodes)
        {
            var name = node.Host.Name;
            var links = (await Lab.IpAsync(node.Host, "-o", "link", "show")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(':')[1].Trim().Split('@')[0])
                .Where(l => l.StartsWith("re6", StringComparison.Ordinal) || l.StartsWith("zre6", StringComparison.Ordinal));
            left.AddRange(links.Select(l => $"{name}: interface {l}"));
            var pids = (await Command.RunAsync("ip", ["netns", "pids", node.Host.Namespace], check: false)).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            foreach (var pid in pids)
            {
                var comm = File.Exists($"/proc/{pid}/comm") ? (await File.ReadAllTextAsync($"/proc/{pid}/comm", cancellationToken)).Trim() : "";
                if (comm is "babeld" or "wireguard-go" or "openvpn" or "re6st-agent")
                {
                    left.Add($"{name}: process {comm} ({pid})");
                }
            }

            if ((await Lab.InAsync(node.Host, "nft", "list", "tables")).Output.Contains("re6st", StringComparison.Ordinal))
            {
                left.Add($"{name}: nft table re6st");
            }

            // babeld's (42), the stand-ins for peers handing over (251, retiring 249), and those kept from a previous babeld (252).
            foreach (var family in new[] { "-6", "-4" })
            {
                foreach (var proto in new[] { "42", "249", "251", "252" })
                {
                    var routes = (await Lab.IpAsync(node.Host, family, "route", "show", "proto", proto)).Output.Trim();
                    if (routes.Length > 0)
                    {
                        left.Add($"{name}: routes of protocol {proto}: {routes.Replace('\n', ';')}");
                    }
                }
            }

            if (Directory.Exists("/sys/fs/cgroup/memory") && Directory.EnumerateDirectories("/sys/fs/cgroup/memory", PodEscapeCgroup, SearchOption.AllDirectories).Any(d => d.Contains($"/{Lab.RunId}-{name}/", StringComparison.Ordinal)))
            {
                left.Add($"{name}: cgroup {PodEscapeCgroup}");
            }

            // The pod network: its CNI configuration, and the unreachable routes that guard the mesh's ranges.
            if (File.Exists(Path.Combine(node.CniConfPath, "10-re6st.conflist")))
            {
                left.Add($"{name}: CNI configuration 10-re6st.conflist");
            }

            foreach (var family in new[] { "-6", "-4" })
            {
                var statics = (await Lab.IpAsync(node.Host, family, "route", "show", "proto", "static")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Where(r => r.Contains("fd5e:6e7:", StringComparison.Ordinal) || r.Contains("10.42.", StringComparison.Ordinal));
                left.AddRange(statics.Select(r => $"{name}: route {r.Trim()}"));
            }

            var addresses = (await Lab.IpAsync(node.Host, "-o", "address", "show", "dev", "lo")).Output;
            if (addresses.Contains("fd5e:6e7:", StringComparison.Ordinal) || addresses.Contains("inet 10.42.", StringComparison.Ordinal))
            {
                left.Add($"{name}: mesh address on lo");
            }
        }

        return left;
    }

    private const string PodEscapeCgroup = "re6st-tunnels";

    /// <summary>The re6st pods of the release (the operator's and the agents').</summary>
    public async Task<IReadOnlyList<V1Pod>> PodsAsync(string component, CancellationToken cancellationToken) =>
        [.. (await Admin.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: $"app.kubernetes.io/instance={Release},app.kubernetes.io/component={component}", cancellationToken: cancellationToken)).Items];

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var errors = new List<Exception>();
        foreach (var node in _nodes)
        {
            try
            {
                await node.DisposeAsync();
            }
            catch (InvalidOperationException e)
            {
                errors.Add(e);
            }
        }

        if (Prometheus is not null)
        {
            await Prometheus.DisposeAsync();
        }

        if (ControlPlane is not null)
        {
            await ControlPlane.DisposeAsync();
        }

        try
        {
            await Lab.DisposeAsync();
        }
        catch (InvalidOperationException e)
        {
            errors.Add(e);
        }

        if (errors.Count > 0)
        {
            throw new AggregateException("the real cluster did not stop cleanly", errors);
        }
    }

    private async Task UpAsync(CancellationToken cancellationToken)
    {
        _progress("preparing the Kubernetes programs (the first run builds them from Debian's source package: about 12 minutes)");
        var binaries = await KubeTools.ProgramsAsync(_options.Repository);
        await KubeTools.ClientsAsync(_options.Repository);
        cancellationToken.ThrowIfCancellationRequested();
        var subnet = await FreeSubnetAsync();
        IPAddress Address(int host) => IPAddress.Parse($"172.31.{subnet}.{host}");

        _progress($"a switch, and this machine's link to it at {Address(254)}/24");
        var lab = Lab;
        var sw = await lab.AddHostAsync("sw", announce: false);
        await lab.InAsync(sw, "ip", "link", "add", "br0", "type", "bridge");
        await lab.InAsync(sw, "ip", "link", "set", "br0", "up");
        var uplink = lab.RunId + "h";
        await Command.RunAsync("ip", ["link", "add", uplink, "type", "veth", "peer", "name", uplink + "s", "netns", sw.Namespace]);
        await Command.RunAsync("ip", ["address", "add", $"{Address(254)}/24", "dev", uplink]);
        await Command.RunAsync("ip", ["link", "set", uplink, "up"]);
        await lab.IpAsync(sw, "link", "set", uplink + "s", "master", "br0", "up");

        async Task<LabHost> OnSwitchAsync(string name, IPAddress address)
        {
            var host = await lab.AddHostAsync(name, announce: false);
            var (atHost, atSwitch) = await lab.LinkAsync(host, sw);
            await lab.IpAsync(sw, "link", "set", atSwitch, "master", "br0");
            await lab.IpAsync(host, "address", "add", $"{address}/24", "dev", atHost);

            // Anything not on the switch goes to the control plane's namespace, which forwards
            // nothing: no lab traffic leaves for the machine's network.
            if (name != "cp")
            {
                await lab.IpAsync(host, "route", "add", "default", "via", Address(1).ToString());
            }

            return host;
        }

        var images = Task.Run(() => LabImages.BuildAsync(
            _options.Repository, binaries, _options.AgentProgram, Path.Combine(lab.DiskDirectory, "images"), _options.ImageCache, _progress, cancellationToken), cancellationToken);

        _progress($"starting the control plane (etcd, kube-apiserver, controller-manager, scheduler) at https://{Address(1)}:{KubeControlPlane.Port}");
        try
        {
            var cp = await OnSwitchAsync("cp", Address(1));
            ControlPlane = await KubeControlPlane.StartAsync(cp, Address(1), binaries, Path.Combine(lab.DiskDirectory, "control-plane"), cancellationToken);
            Mark("controlPlaneAnswers");
        }
        catch
        {
            // The image build writes into the lab's folder: it ends before the lab goes.
            await Task.WhenAny(images);
            throw;
        }

        var built = await images;
        Mark("imagesBuilt");
        var names = Enumerable.Range(0, _options.Nodes).Select(i => ((char)('a' + i)).ToString()).ToList();
        _progress($"starting {names.Count} nodes (containerd, kubelet, kube-proxy), in regions {string.Join(", ", LabCluster.Regions.Take(names.Count))}");
        var hosts = new List<LabHost>();
        for (var i = 0; i < names.Count; i++)
        {
            hosts.Add(await OnSwitchAsync(names[i], Address(10 + i)));
        }

        // A few nodes at a time: importing the images into each containerd is the long part, and
        // the machine's cores and disk are shared.
        using var turns = new SemaphoreSlim(3);
        var starting = hosts.Select(async (host, i) =>
        {
            await turns.WaitAsync(cancellationToken);
            try
            {
                var labels = new Dictionary<string, string> { [LabCluster.RegionLabel] = LabCluster.Regions[i % LabCluster.Regions.Count], [LabCluster.MeshLabel] = "enabled" };
                return await KubeNode.StartAsync(lab, host, Address(10 + i), labels, ControlPlane, binaries, built, cancellationToken);
            }
            finally
            {
                turns.Release();
            }
        }).ToList();
        try
        {
            await Task.WhenAll(starting);
        }
        finally
        {
            // The nodes that did start are stopped with the lab, whatever happened to the others.
            _nodes.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
        }

        // The nodes have no pod network until re6st's agents write it: registered, not Ready yet.
        await WaitNodesAsync(KubeNode.IsRegistered, "registered", TimeSpan.FromMinutes(2), cancellationToken);
        Mark("nodesRegistered");

        var values = await WriteLabValuesAsync(cancellationToken);
        _progress($"helm install {Release} helm/re6st --namespace {Namespace} --create-namespace -f {values}");
        await HelmAsync(["install", Release, Path.Combine(_options.Repository, "helm", "re6st"), "--namespace", Namespace, "--create-namespace", "-f", values], cancellationToken);
        Mesh = "demo";
        await WaitPodsRunningAsync(TimeSpan.FromMinutes(3), cancellationToken);
        Mark("podsRunning");
        await WaitNodesAsync(KubeNode.IsReady, "Ready", TimeSpan.FromMinutes(2), cancellationToken);
        Mark("nodesReady");
        await WaitAllPairsPingAsync(TimeSpan.FromMinutes(3), cancellationToken);
        Mark("allPairsPing");

        if (_options.PrometheusPort is { } port)
        {
            // The agents' metrics, at each node's address; the operator's pod address is not
            // routed from this machine, so the operator is not scraped here.
            _progress($"starting Prometheus at http://127.0.0.1:{port}/ (scrapes every agent, with config/prometheus/rules.yml)");
            Prometheus = await LabPrometheus.StartAsync(
                Path.Combine(Lab.DiskDirectory, "prometheus"),
                port,
                [.. _nodes.Select((n, i) => new LabPrometheus.Target("re6st-agent", AgentMetricsPort, new Dictionary<string, string> { ["region"] = LabCluster.Regions[i % LabCluster.Regions.Count] }) { Host = n.Address.ToString() })],
                [Path.Combine(_options.Repository, "config", "prometheus", "rules.yml")],
                cancellationToken);
        }
    }

    private void Mark(string step) => _timeline[step] = Math.Round(_clock.Elapsed.TotalSeconds, 1);

    /// <summary>The chart's values with the lab's settings (short hellos, few arrows, one operator replica), written next to the lab.</summary>
    private async Task<string> WriteLabValuesAsync(CancellationToken cancellationToken)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(_options.Repository, "helm", "re6st", "values.yaml")))
        {
            yaml.Load(reader);
        }

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        YamlMappingNode Map(YamlMappingNode parent, string key) => (YamlMappingNode)parent.Children[new YamlScalarNode(key)];
        void Set(YamlMappingNode parent, string key, string value) => parent.Children[new YamlScalarNode(key)] = new YamlScalarNode(value);

        Set(Map(root, "operator"), "replicas", "1");
        var mesh = (YamlMappingNode)((YamlSequenceNode)root.Children[new YamlScalarNode("meshes")]).Children[0];
        Set(mesh, "order", _options.Order.ToString(CultureInfo.InvariantCulture));
        mesh.Children[new YamlScalarNode("expectedNodes")] = new YamlScalarNode("null");
        mesh.Children[new YamlScalarNode("subMeshes")] = new YamlSequenceNode(Enumerable.Repeat<YamlNode>(new YamlScalarNode("2"), _options.Order - 1));
        Set(Map(mesh, "babel"), "helloInterval", HelloInterval);

        // The mesh is the pod network: each node a /24 of IPv4, its upper half for pods.
        Set(Map(mesh, "ipv4"), "nodePrefixLength", "24");
        Set(Map(mesh, "podNetwork"), "enabled", "true");
        Set(Map(root, "agent"), "cniConfDir", KubeNode.CniConfDirectory);
        var policy = Map(Map(root, "policy"), "spec");
        Set(policy, "arrowsPerNode", LabCluster.ArrowsPerNode.ToString(CultureInfo.InvariantCulture));
        Set(policy, "smallMeshSize", LabCluster.SmallMeshSize.ToString(CultureInfo.InvariantCulture));

        var path = Path.Combine(Lab.DiskDirectory, "lab-values.yaml");
        await using var writer = new StreamWriter(path);
        await writer.WriteLineAsync("# helm/re6st/values.yaml with the lab's settings: 1 operator replica, 1 s hellos, 3 arrows per host, the pod network on.");
        yaml.Save(writer, assignAnchors: false);
        return path;
    }

    private async Task WaitNodesAsync(Func<k8s.Models.V1Node, bool> state, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var nodes = (await Admin.CoreV1.ListNodeAsync(cancellationToken: cancellationToken)).Items;
            var ready = nodes.Count(state);
            if (ready == _nodes.Count)
            {
                _progress($"{ready} nodes {what}");
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                var stopped = _nodes.FirstOrDefault(n => !nodes.Any(x => x.Metadata.Name == n.Host.Name));
                var detail = stopped is null ? "" : $"; {stopped} never registered; its kubelet.log ends:\n{Tail(stopped.KubeletLog)}";
                throw new TimeoutException($"{ready} of {_nodes.Count} nodes {what} within {timeout.TotalSeconds:F0} s{detail}");
            }

            await Task.Delay(1000, cancellationToken);
        }
    }

    /// <summary>Waits until one agent pod per node and an operator pod are Running.</summary>
    public async Task WaitPodsRunningAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var said = "";
        while (true)
        {
            var agents = await PodsAsync("agent", cancellationToken);
            var operators = await PodsAsync("operator", cancellationToken);
            var running = agents.Count(p => p.Status?.Phase == "Running");
            var state = $"{running} of {_nodes.Count} agent pods Running, {operators.Count(p => p.Status?.Phase == "Running")} operator pod(s) Running";
            if (state != said)
            {
                _progress(state);
                said = state;
            }

            if (running == _nodes.Count && operators.Any(p => p.Status?.Phase == "Running"))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                var waiting = agents.Concat(operators)
                    .SelectMany(p => (p.Status?.ContainerStatuses ?? []).Select(c => $"{p.Metadata.Name}: {c.State?.Waiting?.Reason} {c.State?.Waiting?.Message} {c.State?.Terminated?.Reason}".Trim()));
                throw new TimeoutException($"{state} within {timeout.TotalSeconds:F0} s; {string.Join("; ", waiting)}");
            }

            await Task.Delay(1000, cancellationToken);
        }
    }

    /// <summary>
    /// Waits until the agents' DaemonSet has rolled out its current template: every node runs an
    /// updated pod that is available. On timeout the error names each agent pod's node, image,
    /// readiness and container state, and ends with the last lines of the unready ones' logs.
    /// </summary>
    public async Task WaitAgentsRolledOutAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var name = $"{Release}-agent-{Mesh}";
        while (true)
        {
            var set = await Admin.AppsV1.ReadNamespacedDaemonSetAsync(name, Namespace, cancellationToken: cancellationToken);
            var status = set.Status;
            if (status is not null && status.ObservedGeneration >= set.Metadata.Generation
                && status.UpdatedNumberScheduled == status.DesiredNumberScheduled
                && status.NumberAvailable == status.DesiredNumberScheduled)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                var lines = new List<string>
                {
                    $"daemonset/{name} not rolled out within {timeout.TotalSeconds:F0} s: desired {status?.DesiredNumberScheduled}, updated {status?.UpdatedNumberScheduled}, available {status?.NumberAvailable}",
                };
                foreach (var pod in await PodsAsync("agent", cancellationToken))
                {
                    var container = pod.Status?.ContainerStatuses?.FirstOrDefault();
                    var state = container?.State?.Waiting is { } w ? $"waiting {w.Reason}: {w.Message}"
                        : container?.State?.Terminated is { } t ? $"terminated {t.ExitCode} {t.Reason}: {t.Message}"
                        : container?.State?.Running is not null ? "running" : "no container status";
                    lines.Add($"pod {pod.Metadata.Name} on {pod.Spec.NodeName}: {pod.Status?.Phase}, image {pod.Spec.Containers[0].Image}, ready {container?.Ready}, restarts {container?.RestartCount}, {state}");
                    if (container?.Ready == true)
                    {
                        continue;
                    }

                    var events = await Admin.CoreV1.ListNamespacedEventAsync(Namespace, fieldSelector: $"involvedObject.name={pod.Metadata.Name}", cancellationToken: cancellationToken);
                    lines.AddRange(events.Items.Select(e => $"  event {e.LastTimestamp:HH:mm:ss} {e.Reason}: {e.Message}"));
                    try
                    {
                        lines.Add(await KubectlAsync(["-n", Namespace, "logs", pod.Metadata.Name, "--tail", "40"], cancellationToken));
                    }
                    catch (InvalidOperationException e)
                    {
                        lines.Add($"  (no log: {e.Message})");
                    }
                }

                throw new TimeoutException(string.Join(Environment.NewLine, lines));
            }

            await Task.Delay(1000, cancellationToken);
        }
    }

    /// <summary>Waits until every pair of hosts pings over the mesh.</summary>
    public Task WaitAllPairsPingAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        LabCluster.WaitUntilEveryPairPingsAsync(MeshHostsAsync, _nodes.Count, DateTime.UtcNow + timeout, timeout, _progress, cancellationToken);

    /// <summary>A /24 of 172.31.0.0/16 that no route of this machine covers yet.</summary>
    private static async Task<int> FreeSubnetAsync()
    {
        var routes = (await Command.RunAsync("ip", ["-4", "route", "show", "table", "all"])).Output;
        if (!routes.Contains("172.31.0.0/16", StringComparison.Ordinal))
        {
            var start = Random.Shared.Next(256);
            for (var i = 0; i < 256; i++)
            {
                var candidate = (start + i) % 256;
                if (!routes.Contains($"172.31.{candidate}.", StringComparison.Ordinal))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException("no free /24 in 172.31.0.0/16 for the lab's switch");
    }

    private static async Task<string> ToolAsync(string tool, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (code, output) = await CommandRunner.RunAsync(tool, args, TimeSpan.FromMinutes(5), cancellationToken: cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return code == 0 ? output.Trim() : throw new InvalidOperationException($"{Path.GetFileName(tool)} {string.Join(' ', args.Skip(2))}: {output.Trim()}");
    }

    private static string Tail(string path)
    {
        var text = File.Exists(path) ? File.ReadAllText(path) : "(no log)";
        return text.Length > 3000 ? text[^3000..] : text;
    }
}
