using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using k8s;
using k8s.Models;
using Re6st.Agent.Kube;

namespace Re6st.Lab;

/// <summary>
/// A real etcd and kube-apiserver (1.20.2, built once from Debian's source package and cached) on
/// loopback ports, with the CRDs from crds/ and the RBAC from crds/rbac/ installed. Tokens:
/// admin (system:masters), and tokens whose user names are the operator's and the agent's
/// ServiceAccounts, so their RBAC is what runs. Everything it made is removed on dispose.
/// </summary>
public sealed class LocalApiServer : IAsyncDisposable
{
    public const string OperatorNamespace = "re6st-system";
    private const string AdminToken = "re6st-admin-token";
    private const string OperatorToken = "re6st-operator-token";
    private const string AgentToken = "re6st-agent-token";
    private readonly string _dir;
    private readonly string _repository;
    private bool _disposed;
    private Process? _etcd;
    private Process? _apiserver;

    /// <param name="repository">The checkout (for tests/tools and crds/).</param>
    /// <param name="directory">Where to keep its files; a fresh temporary folder when null.</param>
    public LocalApiServer(string repository, string? directory = null)
    {
        _repository = repository;
        _dir = directory ?? Path.Combine(Path.GetTempPath(), "re6st-apiserver-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
    }

    public string Directory => _dir;

    public int Port { get; private set; }

    public IReadOnlyList<int> Pids => [.. new[] { _etcd, _apiserver }.Where(p => p is { HasExited: false }).Select(p => p!.Id)];

    public string AdminKubeconfig => Path.Combine(_dir, "admin.kubeconfig");

    public string OperatorKubeconfig => Path.Combine(_dir, "operator.kubeconfig");

    public string AgentKubeconfig => Path.Combine(_dir, "agent.kubeconfig");

    public Kubernetes Admin { get; private set; } = null!;

    public Kubernetes Operator { get; private set; } = null!;

    public Kubernetes Agent { get; private set; } = null!;

    /// <summary>The agent's own client (what re6st-agent runs on), with the agent's token.</summary>
    public KubeApiClient AgentApi { get; private set; } = null!;

    public string Log => File.Exists(Path.Combine(_dir, "apiserver.log")) ? File.ReadAllText(Path.Combine(_dir, "apiserver.log")) : "";

    public async Task StartAsync()
    {
        System.IO.Directory.CreateDirectory(_dir);
        var bin = await KubeTools.ProgramsAsync(_repository);
        var etcdClient = FreePort();
        var etcdPeer = FreePort();
        Port = FreePort();

        using (var rsa = RSA.Create(2048))
        {
            await File.WriteAllTextAsync(Path.Combine(_dir, "sa.key"), rsa.ExportRSAPrivateKeyPem());
            await File.WriteAllTextAsync(Path.Combine(_dir, "sa.pub"), rsa.ExportSubjectPublicKeyInfoPem());
        }

        await File.WriteAllTextAsync(Path.Combine(_dir, "tokens.csv"), string.Join('\n',
            $"{AdminToken},admin,admin,\"system:masters\"",
            $"{OperatorToken},system:serviceaccount:{OperatorNamespace}:re6st-operator,re6st-operator,\"system:serviceaccounts\"",
            $"{AgentToken},system:serviceaccount:{OperatorNamespace}:re6st-agent,re6st-agent,\"system:serviceaccounts\"") + "\n");

        _etcd = Start(Path.Combine(bin, "etcd"), "etcd.log",
            "--data-dir", Path.Combine(_dir, "etcd"),
            "--listen-client-urls", $"http://127.0.0.1:{etcdClient}",
            "--advertise-client-urls", $"http://127.0.0.1:{etcdClient}",
            "--listen-peer-urls", $"http://127.0.0.1:{etcdPeer}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{etcdPeer}",
            "--initial-cluster", $"default=http://127.0.0.1:{etcdPeer}",
            "--listen-metrics-urls", $"http://127.0.0.1:{FreePort()}");
        _apiserver = Start(Path.Combine(bin, "kube-apiserver"), "apiserver.log",
            $"--etcd-servers=http://127.0.0.1:{etcdClient}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            $"--secure-port={Port}",
            "--insecure-port=0",
            $"--cert-dir={Path.Combine(_dir, "certs")}",
            $"--token-auth-file={Path.Combine(_dir, "tokens.csv")}",
            "--authorization-mode=RBAC",

            // As kubeadm and the managed clusters set it: the agent's DaemonSet runs privileged.
            "--allow-privileged=true",
            "--service-account-issuer=https://kubernetes.default.svc",
            $"--service-account-key-file={Path.Combine(_dir, "sa.pub")}",
            $"--service-account-signing-key-file={Path.Combine(_dir, "sa.key")}",
            "--service-cluster-ip-range=10.96.0.0/16");

        WriteKubeconfig(AdminKubeconfig, AdminToken);
        WriteKubeconfig(OperatorKubeconfig, OperatorToken);
        WriteKubeconfig(AgentKubeconfig, AgentToken);
        Admin = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(AdminKubeconfig));
        Operator = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(OperatorKubeconfig));
        Agent = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(AgentKubeconfig));
        AgentApi = new KubeApiClient(KubeConnection.FromKubeconfig(AgentKubeconfig));
        await WaitReadyAsync();
        await Admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = OperatorNamespace } });
        await ApplyAsync(Path.Combine(_repository, "crds"));
        await ApplyAsync(Path.Combine(_repository, "crds", "rbac"));
        await WaitForCrdsAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Admin?.Dispose();
        Operator?.Dispose();
        Agent?.Dispose();
        AgentApi?.Dispose();
        foreach (var p in new[] { _apiserver, _etcd })
        {
            if (p is { HasExited: false })
            {
                p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
            }

            p?.Dispose();
        }

        if (System.IO.Directory.Exists(_dir))
        {
            System.IO.Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>Creates every object of every YAML file in a folder (CRDs, RBAC), as `kubectl create -f` would.</summary>
    public async Task ApplyAsync(string folder)
    {
        foreach (var file in System.IO.Directory.GetFiles(folder, "*.yaml").Order(StringComparer.Ordinal))
        {
            foreach (var o in KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(file)))
            {
                switch (o)
                {
                    case V1CustomResourceDefinition crd:
                        await Admin.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
                        break;
                    case V1ClusterRole r:
                        await Admin.RbacAuthorizationV1.CreateClusterRoleAsync(r);
                        break;
                    case V1ClusterRoleBinding b:
                        await Admin.RbacAuthorizationV1.CreateClusterRoleBindingAsync(b);
                        break;
                    case V1Role r:
                        await Admin.RbacAuthorizationV1.CreateNamespacedRoleAsync(r, r.Metadata.NamespaceProperty);
                        break;
                    case V1RoleBinding b:
                        await Admin.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(b, b.Metadata.NamespaceProperty);
                        break;
                    default:
                        throw new InvalidOperationException($"{file}: unexpected object {o.GetType().Name}");
                }
            }
        }
    }

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_apiserver!.HasExited)
            {
                throw new InvalidOperationException("kube-apiserver exited:\n" + Tail(Log));
            }

            try
            {
                await Admin.CoreV1.ReadNamespaceAsync("default");
                return;
            }
#pragma warning disable CA1031 // Not ready yet: any failure means "try again" until the deadline.
            catch (Exception e)
#pragma warning restore CA1031
            {
                last = e;
                await Task.Delay(250);
            }
        }

        throw new TimeoutException($"kube-apiserver not ready within 60 s ({last?.Message}):\n{Tail(Log)}");
    }

    private async Task WaitForCrdsAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var crds = await Admin.ApiextensionsV1.ListCustomResourceDefinitionAsync();
            if (crds.Items.Count(c => c.Spec.Group == "re6st.io" && c.Status?.Conditions?.Any(x => x.Type == "Established" && x.Status == "True") == true) == 3)
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("the re6st CRDs were not established within 30 s");
    }

    private Process Start(string file, string log, params string[] args) =>
        ProcessRunner.StartLogged(file, args, Path.Combine(_dir, log));

    private void WriteKubeconfig(string path, string token) => File.WriteAllText(path, $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: test
          cluster:
            server: https://127.0.0.1:{Port}
            insecure-skip-tls-verify: true
        users:
        - name: user
          user:
            token: {token}
        contexts:
        - name: test
          context:
            cluster: test
            user: user
        current-context: test
        """);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Tail(string text) => text.Length > 4000 ? text[^4000..] : text;
}
