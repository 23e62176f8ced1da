using k8s;
using k8s.Models;

namespace Re6st.Lab.Kube;

/// <summary>
/// Application pods over the mesh, as users run them: one ordinary pod (not on the host's network)
/// per node, from the lab's probe image, each serving TCP on <see cref="Port"/> (it answers with
/// its own name), and a ClusterIP Service in front of one of them. They get their addresses from
/// re6st's pod network; the lab reaches into them with <c>kubectl exec</c>.
/// </summary>
public sealed partial class WorkloadPods
{
    public const string Namespace = "re6st-lab-pods";
    public const int Port = 7000;

    private readonly RealCluster _cluster;

    private WorkloadPods(RealCluster cluster, IReadOnlyList<Pod> pods)
    {
        _cluster = cluster;
        Pods = pods;
    }

    /// <summary>A workload pod: its name, node, and its IPv4 and IPv6 addresses on the pod network.</summary>
    public sealed record Pod(string Name, string Node, string Ipv4, string Ipv6);

    public IReadOnlyList<Pod> Pods { get; }

    /// <summary>
    /// What <see cref="MeasureAsync"/> saw: pings sent and lost between pods, and the long-lived TCP
    /// connection's lines sent and echoed back (<see cref="TcpError"/> says how it broke, if it did).
    /// </summary>
    public sealed record PodTraffic(long Sent, long Lost, int TcpLines, int TcpEchoed, string? TcpError)
    {
        /// <summary>The same pings over IPv6 (<see cref="Sent"/> and <see cref="Lost"/> are IPv4's).</summary>
        public long SentIpv6 { get; init; }

        public long LostIpv6 { get; init; }

        public int TcpResets => TcpError is null ? 0 : 1;

        /// <summary>The pairs that lost pings: how many, and when the first went unanswered.</summary>
        public IReadOnlyList<PairLoss> Losses { get; init; } = [];

        /// <summary>When the first ping of all went unanswered, if one did.</summary>
        public DateTimeOffset? FirstMiss => Losses.Select(l => l.FirstMiss).Min();
    }

    /// <summary>Pings from <paramref name="From"/> to <paramref name="To"/> (a pod's address) that went unanswered.</summary>
    public sealed record PairLoss(string From, string To, long Sent, long Lost, DateTimeOffset? FirstMiss)
    {
        public override string ToString() => $"{From} -> {To}: {Lost} of {Sent} lost{(FirstMiss is { } at ? $", the first at {at:HH:mm:ss.f} UTC" : "")}";
    }

    /// <summary>Starts one pod per node and waits until each runs with both addresses.</summary>
    public static async Task<WorkloadPods> StartAsync(RealCluster cluster, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var admin = cluster.Admin;
        await admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } }, cancellationToken: cancellationToken);
        foreach (var node in cluster.Nodes)
        {
            var name = NameOf(node.Host.Name);
            await admin.CoreV1.CreateNamespacedPodAsync(
                new V1Pod
                {
                    Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = name } },
                    Spec = new V1PodSpec
                    {
                        NodeName = node.Host.Name,
                        TerminationGracePeriodSeconds = 1,
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "probe",
                                Image = LabImages.ProbeReference,
                                ImagePullPolicy = "Never",

                                // Both families on one socket; each connection gets the pod's name back.
                                Command = ["socat", $"TCP6-LISTEN:{Port},ipv6only=0,fork,reuseaddr", $"SYSTEM:echo {name}"],
                            },
                        ],
                    },
                },
                Namespace,
                cancellationToken: cancellationToken);
        }

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var pods = (await admin.CoreV1.ListNamespacedPodAsync(Namespace, cancellationToken: cancellationToken)).Items;
            var running = pods.Where(p => p.Status?.Phase == "Running" && !string.IsNullOrEmpty(p.Status.PodIP)).ToList();
            if (running.Count == cluster.Nodes.Count)
            {
                var list = new List<Pod>();
                foreach (var p in running.OrderBy(p => p.Spec.NodeName, StringComparer.Ordinal))
                {
                    var v6 = await GlobalIpv6Async(cluster, p.Metadata.Name, deadline, cancellationToken);
                    list.Add(new Pod(p.Metadata.Name, p.Spec.NodeName, p.Status.PodIP, v6));
                }

                return new WorkloadPods(cluster, list);
            }

            if (DateTime.UtcNow > deadline)
            {
                var events = (await admin.CoreV1.ListNamespacedEventAsync(Namespace, cancellationToken: cancellationToken)).Items
                    .Where(e => e.Type == "Warning").Select(e => $"{e.InvolvedObject.Name}: {e.Reason}: {e.Message}").TakeLast(10);
                throw new TimeoutException($"{running.Count} of {cluster.Nodes.Count} workload pods running with an address within {timeout.TotalSeconds:F0} s: "
                    + $"{string.Join("; ", pods.Select(p => $"{p.Metadata.Name} {p.Status?.Phase} {p.Status?.PodIP}"))}\n{string.Join('\n', events)}");
            }

            await Task.Delay(1000, cancellationToken);
        }
    }

    public static string NameOf(string node) => $"probe-{node}";

    /// <summary>Runs a command in a workload pod; its output, or the exit code and output when it fails.</summary>
    public async Task<(bool Ok, string Output)> ExecAsync(Pod pod, IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pod);
        try
        {
            return (true, await _cluster.KubectlAsync(["-n", Namespace, "exec", pod.Name, "--", .. command], cancellationToken));
        }
        catch (InvalidOperationException e)
        {
            return (false, e.Message);
        }
    }

    /// <summary>
    /// Each pod pings every other pod's addresses (3 pings each, in one exec per pod); returns the
    /// pairs that did not answer, as "from -> address". Bounded: each ping waits 5 s at most.
    /// </summary>
    public async Task<IReadOnlyList<string>> UnreachablePairsAsync(bool ipv6, CancellationToken cancellationToken)
    {
        var failed = new List<string>();
        await Task.WhenAll(Pods.Select(async from =>
        {
            var targets = Pods.Where(p => p != from).Select(p => ipv6 ? p.Ipv6 : p.Ipv4).ToList();
            var script = "for a in \"$@\"; do if ping -c 3 -i 0.3 -W 5 -q \"$a\" >/dev/null 2>&1; then echo \"ok $a\"; else echo \"lost $a\"; fi; done";
            var (_, output) = await ExecAsync(from, ["sh", "-c", script, "ping", .. targets], cancellationToken);
            var ok = output.Split('\n').Where(l => l.StartsWith("ok ", StringComparison.Ordinal)).Select(l => l[3..].Trim()).ToHashSet(StringComparer.Ordinal);
            lock (failed)
            {
                failed.AddRange(targets.Where(t => !ok.Contains(t)).Select(t => $"{from.Name} -> {t}"));
            }
        }));
        return failed;
    }

    /// <summary>Opens a TCP connection from <paramref name="from"/> to <paramref name="address"/>:<see cref="Port"/> and returns what the server said (its pod's name), or the error.</summary>
    public async Task<string> TcpAsync(Pod from, string address, CancellationToken cancellationToken)
    {
        var target = address.Contains(':', StringComparison.Ordinal) ? $"[{address}]" : address;
        var (ok, output) = await ExecAsync(from, ["socat", "-T5", "-", $"TCP:{target}:{Port},connect-timeout=5"], cancellationToken);
        return ok ? output.Trim() : $"failed: {output.Trim()}";
    }

    /// <summary>
    /// Application traffic for <paramref name="duration"/>: every pod pings every other (IPv4 and
    /// IPv6, one ping per <paramref name="interval"/> each), and one long-lived TCP connection carries a line every
    /// half second from <paramref name="tcpFrom"/> to an echo server in <paramref name="tcpTo"/>.
    /// A connection reset (or a line not echoed back) counts as one reset.
    /// </summary>
    public async Task<PodTraffic> MeasureAsync(Pod tcpFrom, Pod tcpTo, TimeSpan duration, TimeSpan interval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tcpFrom);
        ArgumentNullException.ThrowIfNull(tcpTo);
        var seconds = Math.Max(1, (int)duration.TotalSeconds);
        var server = ExecAsync(tcpTo, ["socat", $"TCP6-LISTEN:{EchoPort},ipv6only=0,reuseaddr", "EXEC:cat"], cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var lines = seconds * 2;
        var client = ExecAsync(
            tcpFrom,
            ["sh", "-c", $"i=0; while [ $i -lt {lines} ]; do echo line$i; sleep 0.5; i=$((i+1)); done | socat -T15 - TCP:{tcpTo.Ipv4}:{EchoPort},connect-timeout=5"],
            cancellationToken);
        // One exec per pod, running all of its pings at once (-D -O: each unanswered ping says so,
        // with the time, as the next one leaves), each into its own file, printed at the end under
        // a header: an exec per pair (60 for 6 pods) was itself a load on 2 cores.
        var every = interval.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        var pings = Pods.Select(async from =>
        {
            var targets = Pods.Where(to => to != from).SelectMany(to => new[] { to.Ipv4, to.Ipv6 }).ToList();
            var script = $"cd \"$(mktemp -d)\"; for a in {string.Join(' ', targets)}; do ping -D -O -i {every} -w {seconds} $a > \"p-$a\" 2>&1 & done; wait; for a in {string.Join(' ', targets)}; do echo \"== $a\"; cat \"p-$a\"; done";
            var (_, output) = await ExecAsync(from, ["sh", "-c", script], cancellationToken);
            var sections = ("\n" + output).Split("\n== ").Skip(1)
                .GroupBy(x => x.Split('\n')[0].Trim(), StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            return targets.Select(address =>
            {
                var text = sections.GetValueOrDefault(address) ?? "";
                var m = PingSummary().Match(text);
                if (!m.Success)
                {
                    throw new InvalidOperationException($"ping from {from.Name} to {address}: no summary in its output: {text[Math.Max(0, text.Length - 2000)..]}");
                }

                var miss = UnansweredAt().Match(text);
                DateTimeOffset? firstMiss = miss.Success
                    ? DateTimeOffset.FromUnixTimeMilliseconds((long)(double.Parse(miss.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * 1000))
                    : null;
                var sent = long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                var received = long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
                return (V6: address.Contains(':', StringComparison.Ordinal), Sent: sent, Received: received, Loss: new PairLoss(from.Name, address, sent, sent - received, firstMiss));
            }).ToList();
        }).ToList();
        var counts = (await Task.WhenAll(pings)).SelectMany(c => c).ToList();
        var v4 = counts.Where(c => !c.V6).ToList();
        var v6 = counts.Where(c => c.V6).ToList();
        var (clientOk, echoed) = await client;
        var (serverOk, serverOutput) = await server;
        var echoedLines = echoed.Split('\n').Count(l => l.StartsWith("line", StringComparison.Ordinal));
        var tcpError = !clientOk ? echoed.Trim() : !serverOk ? serverOutput.Trim() : echoedLines < lines ? $"{echoedLines} of {lines} lines echoed" : null;
        return new PodTraffic(v4.Sum(c => c.Sent), v4.Sum(c => c.Sent - c.Received), lines, echoedLines, tcpError)
        {
            SentIpv6 = v6.Sum(c => c.Sent),
            LostIpv6 = v6.Sum(c => c.Sent - c.Received),
            Losses = [.. counts.Where(c => c.Loss.Lost > 0).Select(c => c.Loss)],
        };
    }

    /// <summary>
    /// TCP throughput from <paramref name="from"/> to <paramref name="to"/> (iperf3, one stream, for
    /// <paramref name="seconds"/>), in Mbit/s as the receiver counted it.
    /// </summary>
    public async Task<double> ThroughputMbpsAsync(Pod from, Pod to, int seconds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        // Bounded: a server whose client never came would hold its exec open.
        var server = ExecAsync(to, ["timeout", (seconds + 30).ToString(System.Globalization.CultureInfo.InvariantCulture), "iperf3", "-s", "-1", "-p", IperfPort.ToString(System.Globalization.CultureInfo.InvariantCulture)], cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var (ok, output) = await ExecAsync(from, ["iperf3", "-c", to.Ipv4, "-p", IperfPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-J"], cancellationToken);
        await server;
        if (!ok)
        {
            throw new InvalidOperationException($"iperf3 from {from.Name} to {to.Name} ({to.Ipv4}): {output}");
        }

        using var json = System.Text.Json.JsonDocument.Parse(output);
        return Math.Round(json.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble() / 1e6, 1);
    }

    /// <summary>
    /// A pod on <paramref name="node"/>'s own network (the underlay, no tunnel), from the probe image:
    /// what the throughput over an arrow is compared with. Its <see cref="Pod.Ipv4"/> is the node's address.
    /// </summary>
    public async Task<Pod> StartHostPodAsync(string node, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var name = $"host-{node}";
        await _cluster.Admin.CoreV1.CreateNamespacedPodAsync(
            new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name },
                Spec = new V1PodSpec
                {
                    NodeName = node,
                    HostNetwork = true,
                    TerminationGracePeriodSeconds = 1,
                    Containers = [new V1Container { Name = "probe", Image = LabImages.ProbeReference, ImagePullPolicy = "Never" }],
                },
            },
            Namespace,
            cancellationToken: cancellationToken);
        for (var deadline = DateTime.UtcNow + timeout; ; await Task.Delay(1000, cancellationToken))
        {
            var pod = await _cluster.Admin.CoreV1.ReadNamespacedPodAsync(name, Namespace, cancellationToken: cancellationToken);
            if (pod.Status?.Phase == "Running" && !string.IsNullOrEmpty(pod.Status.PodIP))
            {
                return new Pod(name, node, pod.Status.PodIP, "");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"host pod {name} not running within {timeout.TotalSeconds:F0} s: {pod.Status?.Phase}");
            }
        }
    }

    /// <summary>The port iperf3's server listens on in <see cref="ThroughputMbpsAsync"/>.</summary>
    public const int IperfPort = 7002;

    /// <summary>The port of the echo server <see cref="MeasureAsync"/> starts for its long-lived connection.</summary>
    public const int EchoPort = 7001;

    [System.Text.RegularExpressions.GeneratedRegex(@"(\d+) packets transmitted, (\d+) received")]
    private static partial System.Text.RegularExpressions.Regex PingSummary();

    [System.Text.RegularExpressions.GeneratedRegex(@"\[(\d+\.\d+)\] no answer yet")]
    private static partial System.Text.RegularExpressions.Regex UnansweredAt();

    /// <summary>A ClusterIP Service in front of <paramref name="backend"/>'s pod; returns its address.</summary>
    public async Task<string> ExposeAsync(Pod backend, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var service = await _cluster.Admin.CoreV1.CreateNamespacedServiceAsync(
            new V1Service
            {
                Metadata = new V1ObjectMeta { Name = backend.Name },
                Spec = new V1ServiceSpec
                {
                    Selector = new Dictionary<string, string> { ["app"] = backend.Name },
                    Ports = [new V1ServicePort { Port = Port, TargetPort = Port, Protocol = "TCP" }],
                },
            },
            Namespace,
            cancellationToken: cancellationToken);
        return service.Spec.ClusterIP;
    }

    /// <summary>Deletes the workload pods and their namespace, and waits until they are gone (so nothing of theirs stays on the nodes).</summary>
    public async Task DeleteAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The pods first: the namespace controller retries a namespace whose pods are still going
        // with an exponential backoff (seen at 46 s between two tries once 4 pods took 30 s to go),
        // so a namespace deleted with its pods in it went up to a minute after them.
        var deadline = DateTime.UtcNow + timeout;
        string Left() => $"--timeout={Math.Max(1, (int)(deadline - DateTime.UtcNow).TotalSeconds)}s";
        try
        {
            await _cluster.KubectlAsync(["-n", Namespace, "delete", "pods", "--all", "--wait=true", Left()], cancellationToken);
            await _cluster.KubectlAsync(["delete", "namespace", Namespace, "--wait=true", Left()], cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            // What holds the namespace: its conditions (the namespace controller says which kind of
            // object it still waits for), the pods left and their events.
            var conditions = await SayAsync(["get", "namespace", Namespace, "-o", "jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{\"\\n\"}{end}"]);
            var pods = await SayAsync(["-n", Namespace, "get", "pods", "-o", "wide"]);
            var events = await SayAsync(["-n", Namespace, "get", "events", "--sort-by=.lastTimestamp"]);
            throw new TimeoutException($"{e.Message}\nnamespace {Namespace}:\n{conditions}\npods:\n{pods}\nevents:\n{events}", e);
        }

        async Task<string> SayAsync(string[] args)
        {
            try
            {
                return await _cluster.KubectlAsync(args, CancellationToken.None);
            }
            catch (InvalidOperationException e)
            {
                return e.Message;
            }
        }
    }

    /// <summary>The pod's global IPv6 address on eth0 (the kubelet of Kubernetes 1.20 without dual-stack reports only the first family).</summary>
    private static async Task<string> GlobalIpv6Async(RealCluster cluster, string pod, DateTime deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            var output = await cluster.KubectlAsync(["-n", Namespace, "exec", pod, "--", "ip", "-6", "-o", "address", "show", "dev", "eth0", "scope", "global"], cancellationToken);
            var address = output.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipWhile(w => w != "inet6").Skip(1).FirstOrDefault()?.Split('/')[0];
            if (address is not null && !output.Contains("tentative", StringComparison.Ordinal))
            {
                return address;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"workload pod {pod} has no usable global IPv6 address: {output.Trim()}");
            }

            await Task.Delay(500, cancellationToken);
        }
    }
}
