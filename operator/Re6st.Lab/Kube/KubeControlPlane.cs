using System.Diagnostics;
using System.Net;
using k8s;
using Re6st.Lab.Netns;

namespace Re6st.Lab.Kube;

/// <summary>
/// The control plane of a real-node lab, in a network namespace of its own on the lab's switch:
/// etcd, kube-apiserver (client certificates, the Node and RBAC authorizers, NodeRestriction,
/// pod-bound service-account tokens), kube-controller-manager (without its pod range allocator: re6st gives nodes their pod ranges)
/// and kube-scheduler, all 1.20.2 from tests/tools/kube-binaries.sh. Its processes die with the
/// namespace, so a crashed lab's sweep stops them too.
/// </summary>
public sealed class KubeControlPlane : IAsyncDisposable
{
    public const int Port = 6443;

    /// <summary>The Services' range; its first address is the kubernetes Service's, which pods reach the API server at.</summary>
    public const string ServiceRange = "10.96.0.0/16";

    /// <summary>
    /// The pods' IPv4 addresses: the lab mesh's IPv4 range (helm/re6st/values.yaml), from which
    /// re6st gives each node its pod range (the controller-manager allocates none).
    /// </summary>
    public const string ClusterCidr = "10.42.0.0/16";

    private readonly List<Process> _processes = [];
    private readonly string _directory;
    private int _disposed;

    private KubeControlPlane(LabHost host, IPAddress address, string directory, ClusterPki pki)
    {
        Host = host;
        Address = address;
        _directory = directory;
        Pki = pki;
    }

    public LabHost Host { get; }

    /// <summary>The API server's address on the lab's switch (nodes, and this machine through its link to the switch, reach it there).</summary>
    public IPAddress Address { get; }

    public ClusterPki Pki { get; }

    public string Server => $"https://{Address}:{Port}";

    /// <summary>An admin (system:masters) kubeconfig that works from this machine.</summary>
    public string AdminKubeconfig => Path.Combine(_directory, "admin.kubeconfig");

    public Kubernetes Admin { get; private set; } = null!;

    public IReadOnlyList<int> Pids => [.. _processes.Where(p => !p.HasExited).Select(p => p.Id)];

    /// <summary>Starts the control plane in <paramref name="host"/> (already on the switch at <paramref name="address"/>) and waits until the API server answers.</summary>
    public static async Task<KubeControlPlane> StartAsync(LabHost host, IPAddress address, string binaries, string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        Directory.CreateDirectory(directory);
        var pki = ClusterPki.Create(Path.Combine(directory, "pki"));
        var plane = new KubeControlPlane(host, address, directory, pki);
        try
        {
            await plane.StartProcessesAsync(binaries, cancellationToken);
            return plane;
        }
        catch
        {
            await plane.DisposeAsync();
            throw;
        }
    }

    /// <summary>The API server's log (the last part), for errors.</summary>
    public string ApiServerLog(int characters = 4000)
    {
        var path = Path.Combine(_directory, "kube-apiserver.log");
        var text = File.Exists(path) ? File.ReadAllText(path) : "";
        return text.Length > characters ? text[^characters..] : text;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Admin?.Dispose();
        foreach (var process in Enumerable.Reverse(_processes))
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }
    }

    private async Task StartProcessesAsync(string binaries, CancellationToken cancellationToken)
    {
        var local = "https://127.0.0.1:" + Port;
        var (serving, servingKey) = Pki.Serving(
            "kube-apiserver",
            [Address, IPAddress.Loopback, IPAddress.Parse("10.96.0.1")],
            ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]);
        var (kubeletClient, kubeletClientKey) = Pki.Client("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters");
        Pki.Kubeconfig(AdminKubeconfig, Server, "admin", "system:masters");
        var controllerManager = Pki.Kubeconfig(Path.Combine(_directory, "controller-manager.kubeconfig"), local, "system:kube-controller-manager");
        var scheduler = Pki.Kubeconfig(Path.Combine(_directory, "scheduler.kubeconfig"), local, "system:kube-scheduler");

        Start("etcd", Path.Combine(binaries, "etcd"),
            "--data-dir", Path.Combine(_directory, "etcd"),
            "--listen-client-urls", "http://127.0.0.1:2379",
            "--advertise-client-urls", "http://127.0.0.1:2379",
            "--listen-peer-urls", "http://127.0.0.1:2380",
            "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
            "--initial-cluster", "default=http://127.0.0.1:2380",
            "--listen-metrics-urls", "http://127.0.0.1:2381");
        Start("kube-apiserver", Path.Combine(binaries, "kube-apiserver"),
            "--etcd-servers=http://127.0.0.1:2379",
            "--bind-address=0.0.0.0",
            $"--advertise-address={Address}",
            $"--secure-port={Port}",
            "--insecure-port=0",
            $"--tls-cert-file={serving}",
            $"--tls-private-key-file={servingKey}",
            $"--client-ca-file={Pki.CaFile}",
            $"--kubelet-client-certificate={kubeletClient}",
            $"--kubelet-client-key={kubeletClientKey}",
            "--kubelet-preferred-address-types=InternalIP",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true",
            "--service-account-issuer=https://kubernetes.default.svc",
            $"--service-account-key-file={Pki.ServiceAccountPublicKey}",
            $"--service-account-signing-key-file={Pki.ServiceAccountKey}",

            // Pods get a projected token bound to the pod (and the CA from the kube-root-ca.crt
            // ConfigMap), as in every cluster from 1.21 on.
            "--feature-gates=BoundServiceAccountTokenVolume=true",
            $"--service-cluster-ip-range={ServiceRange}");
        Admin = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(AdminKubeconfig));
        await WaitReadyAsync(cancellationToken);

        Start("kube-controller-manager", Path.Combine(binaries, "kube-controller-manager"),
            $"--kubeconfig={controllerManager}",
            $"--authentication-kubeconfig={controllerManager}",
            $"--authorization-kubeconfig={controllerManager}",
            $"--service-account-private-key-file={Pki.ServiceAccountKey}",
            $"--root-ca-file={Pki.CaFile}",
            "--use-service-account-credentials=true",
            // re6st is the pod IPAM (the Mesh's podNetwork): no other allocator may give nodes pod ranges.
            "--allocate-node-cidrs=false",
            $"--service-cluster-ip-range={ServiceRange}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            "--port=0");
        Start("kube-scheduler", Path.Combine(binaries, "kube-scheduler"),
            $"--kubeconfig={scheduler}",
            $"--authentication-kubeconfig={scheduler}",
            $"--authorization-kubeconfig={scheduler}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            "--port=0");
    }

    /// <summary>Starts <paramref name="program"/> in the control plane's namespace (nsenter, which keeps this machine's /sys), logged to NAME.log.</summary>
    private void Start(string name, string program, params string[] args) =>
        _processes.Add(ProcessRunner.StartLogged("nsenter", [$"--net=/run/netns/{Host.Namespace}", "--", program, .. args], Path.Combine(_directory, name + ".log")));

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_processes.FirstOrDefault(p => p.HasExited) is { } exited)
            {
                throw new InvalidOperationException($"a control-plane process exited ({exited.ExitCode}); kube-apiserver.log ends:\n{ApiServerLog()}");
            }

            try
            {
                await Admin.CoreV1.ReadNamespaceAsync("default", cancellationToken: cancellationToken);
                return;
            }
#pragma warning disable CA1031 // Not ready yet: any failure means "try again" until the deadline.
            catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
            {
                last = e;
                await Task.Delay(250, cancellationToken);
            }
        }

        throw new TimeoutException($"kube-apiserver did not answer at {Server} within 90 s ({last?.Message}):\n{ApiServerLog()}");
    }
}
