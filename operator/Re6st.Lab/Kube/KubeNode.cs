using System.Diagnostics;
using System.Net;
using Re6st.Lab.Netns;
using Re6st.Runtime;

namespace Re6st.Lab.Kube;

/// <summary>
/// One host of the lab as a real Kubernetes node: containerd, the kubelet (registered under the
/// host's name with its region label) and kube-proxy, run by node.sh in the host's network
/// namespace and a private mount namespace, under a cgroup of its own that is also the kubelet's
/// cgroupRoot (two kubelets must never share one). The lab's images are imported into its
/// containerd before the kubelet starts.
/// </summary>
public sealed class KubeNode : IAsyncDisposable
{
    /// <summary>
    /// The node's CNI configuration folder, in its private /var (/etc is the machine's, shared by
    /// every node): the lab's values give it to the chart as agent.cniConfDir, and node.sh makes it
    /// before containerd starts watching it.
    /// </summary>
    public const string CniConfDirectory = "/var/lib/re6st-lab/cni";

    private static readonly string[] NodeLogs = ["node.log", "containerd.log"];

    private readonly Process _process;
    private readonly Action<string> _log;
    private int _disposed;

    private KubeNode(LabHost host, IPAddress address, string directory, string cgroup, Process process, Action<string> log)
    {
        Host = host;
        Address = address;
        Directory = directory;
        Cgroup = cgroup;
        _process = process;
        _log = log;
    }

    public LabHost Host { get; }

    /// <summary>The node's InternalIP (the kubelet's --node-ip), on the lab's switch.</summary>
    public IPAddress Address { get; }

    /// <summary>The node's folder: configs, logs (containerd.log, kubelet.log, kube-proxy.log), and its private /run and /var.</summary>
    public string Directory { get; }

    public string Cgroup { get; }

    public int ProcessId => _process.Id;

    public string KubeletLog => Path.Combine(Directory, "kubelet.log");

    /// <summary>Where the node's CNI configuration folder is, seen from this machine.</summary>
    public string CniConfPath => Path.Combine(Directory, "var", CniConfDirectory["/var/".Length..]);

    /// <summary>Writes the node's configuration, starts it, and imports <paramref name="images"/> before the kubelet starts.</summary>
    public static async Task<KubeNode> StartAsync(
        NetnsLab lab, LabHost host, IPAddress address, IReadOnlyDictionary<string, string> labels, KubeControlPlane controlPlane, string binaries, IReadOnlyList<LabImage> images, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(controlPlane);
        ArgumentNullException.ThrowIfNull(images);
        var directory = Path.Combine(lab.DiskDirectory, "nodes", host.Name);
        System.IO.Directory.CreateDirectory(directory);
        var cgroup = $"{lab.RunId}-{host.Name}";
        await WriteConfigAsync(directory, cgroup, host.Name, address, labels, controlPlane, cancellationToken);
        LabCgroups.Create(cgroup);

        var script = Path.Combine(AppContext.BaseDirectory, "Kube", "node.sh");
        var process = ProcessRunner.StartLogged(
            "nsenter",
            [$"--net=/run/netns/{host.Namespace}", "--", "unshare", "--mount", "--propagation", "private", "--", "bash", script, directory, cgroup, binaries],
            Path.Combine(directory, "node.log"));
        var node = new KubeNode(host, address, directory, cgroup, process, lab.Log);
        try
        {
            await node.WaitForFileAsync("containerd.ready", TimeSpan.FromSeconds(30), cancellationToken);
            foreach (var image in images)
            {
                var (code, output) = await CommandRunner.RunAsync(
                    "ctr",
                    ["--address", Path.Combine(directory, "run", "containerd", "containerd.sock"), "--namespace", "k8s.io", "images", "import", image.Archive],
                    TimeSpan.FromMinutes(3), cancellationToken: cancellationToken);
                if (code != 0)
                {
                    throw new InvalidOperationException($"node {host.Name}: ctr images import {image.Reference} failed: {output.Trim()}");
                }
            }

            await File.WriteAllTextAsync(Path.Combine(directory, "images.imported"), "", cancellationToken);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops every process of the node (containers included) and removes its cgroup and files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var errors = new List<string>();
        // node.sh's trap stops the kubelet, kube-proxy and containerd; what they leave (shims,
        // containers) goes with the cgroup.
        await ProcessRunner.StopAsync(_process, TimeSpan.FromSeconds(10));
        errors.AddRange(await LabCgroups.RemoveAsync(Cgroup, _log));
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException e)
        {
            errors.Add($"{Directory}: {e.Message}");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"node {Host.Name} did not stop cleanly: {string.Join("; ", errors)}");
        }
    }

    /// <summary>
    /// Stops (SIGSTOP) or resumes (SIGCONT) the node's kubelet: a hung kubelet, whose node turns
    /// NotReady while its containers keep running.
    /// </summary>
    public async Task FreezeKubeletAsync(bool frozen)
    {
        var kubelets = LabCgroups.ProcessesOf(Cgroup).Where(pid => File.Exists($"/proc/{pid}/comm") && File.ReadAllText($"/proc/{pid}/comm").Trim() == "kubelet").ToList();
        if (kubelets.Count != 1)
        {
            throw new InvalidOperationException($"node {Host.Name}: {kubelets.Count} kubelet processes");
        }

        await Command.RunAsync("kill", [frozen ? "-STOP" : "-CONT", kubelets[0].ToString(System.Globalization.CultureInfo.InvariantCulture)]);
    }

    /// <summary>
    /// Hides (or shows again) <c>/dev/net/tun</c> from the node's kubelet and containerd: a tmpfs
    /// over <c>/dev/net</c> in the node's own mount namespace, as on a host whose kernel has no tun.
    /// The machine's /dev is untouched (the node's namespace is private), and the mount goes with
    /// the node.
    /// </summary>
    public async Task HideTunAsync(bool hidden)
    {
        var mounts = $"--mount=/proc/{ProcessId}/ns/mnt";
        await Command.RunAsync("nsenter", hidden
            ? [mounts, "--", "mount", "-t", "tmpfs", "-o", "size=16k,mode=755", "re6st-lab-no-tun", "/dev/net"]
            : [mounts, "--", "umount", "/dev/net"]);
    }

    public override string ToString() => $"node {Host.Name} ({Address})";

    /// <summary>Whether a Node's Ready condition is True.</summary>
    /// <summary>Registered: the node is in the API server's list (Ready or not).</summary>
    public static bool IsRegistered(k8s.Models.V1Node node) => node?.Metadata?.Name is not null;

    public static bool IsReady(k8s.Models.V1Node node) =>
        node?.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    private async Task WaitForFileAsync(string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(Path.Combine(Directory, name)))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                var log = string.Join('\n', NodeLogs.Select(f => Path.Combine(Directory, f)).Where(File.Exists).Select(f => $"{Path.GetFileName(f)}:\n{Tail(File.ReadAllText(f))}"));
                throw new InvalidOperationException($"node {Host.Name}: {name} did not appear within {timeout.TotalSeconds:F0} s{(_process.HasExited ? " (node.sh exited)" : "")}\n{log}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static async Task WriteConfigAsync(
        string directory, string cgroup, string name, IPAddress address, IReadOnlyDictionary<string, string> labels, KubeControlPlane controlPlane, CancellationToken cancellationToken)
    {
        var pki = controlPlane.Pki;
        var kubeletKubeconfig = pki.Kubeconfig(Path.Combine(directory, "kubelet.kubeconfig"), controlPlane.Server, $"system:node:{name}", "system:nodes");
        var proxyKubeconfig = pki.Kubeconfig(Path.Combine(directory, "kube-proxy.kubeconfig"), controlPlane.Server, "system:kube-proxy");

        // containerd: its own root, state and socket come from the node's private /var and /run.
        // CAVEAT: root here lacks CAP_SYS_RESOURCE, so runc cannot set a sandbox's oom_score_adj
        // below its own; restrict_oom_score_adj clamps it (without it every pod fails to start).
        // Pods not on the host's network get their network from the CNI configuration re6st's agent
        // writes in CniConfDirectory (the node's private /var): until then the node is NotReady.
        await File.WriteAllTextAsync(Path.Combine(directory, "containerd.toml"), $$"""
            version = 2
            [plugins."io.containerd.grpc.v1.cri"]
              sandbox_image = "{{LabImages.PauseReference}}"
              restrict_oom_score_adj = true
              [plugins."io.containerd.grpc.v1.cri".containerd]
                snapshotter = "overlayfs"
              [plugins."io.containerd.grpc.v1.cri".cni]
                bin_dir = "/usr/lib/cni"
                conf_dir = "{{CniConfDirectory}}"

            """, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "kubelet.yaml"), $"""
            apiVersion: kubelet.config.k8s.io/v1beta1
            kind: KubeletConfiguration
            cgroupDriver: cgroupfs
            cgroupRoot: /{cgroup}
            failSwapOn: false
            authentication:
              anonymous:
                enabled: false
              webhook:
                enabled: true
              x509:
                clientCAFile: {pki.CaFile}
            authorization:
              mode: Webhook
            clusterDomain: cluster.local
            readOnlyPort: 0
            serializeImagePulls: false
            # The lab's nodes share one disk with the machine: no eviction for its use by others.
            evictionHard:
              memory.available: "100Mi"
              nodefs.available: "1%"
              imagefs.available: "1%"
            imageGCHighThresholdPercent: 100
            imageGCLowThresholdPercent: 99

            """, cancellationToken);
        string[] args =
        [
            $"--config={Path.Combine(directory, "kubelet.yaml")}",
            $"--kubeconfig={kubeletKubeconfig}",
            "--container-runtime=remote",
            "--container-runtime-endpoint=unix:///run/containerd/containerd.sock",
            "--root-dir=/var/lib/kubelet",
            $"--cert-dir={Path.Combine(directory, "kubelet-pki")}",
            $"--hostname-override={name}",
            $"--node-ip={address}",
            $"--node-labels={string.Join(',', labels.Select(l => $"{l.Key}={l.Value}"))}",
            "--v=1",
        ];
        await File.WriteAllTextAsync(Path.Combine(directory, "kubelet.args"), string.Join('\n', args) + "\n", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "kube-proxy.yaml"), $"""
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            clientConnection:
              kubeconfig: {proxyKubeconfig}
            hostnameOverride: {name}
            bindAddress: {address}
            clusterCIDR: {KubeControlPlane.ClusterCidr}
            mode: iptables
            # Leave the machine-wide conntrack table size and this process's OOM score alone.
            conntrack:
              maxPerCore: 0
            oomScoreAdj: 0
            metricsBindAddress: 127.0.0.1:10249
            healthzBindAddress: 127.0.0.1:10256

            """, cancellationToken);
    }

    private static string Tail(string text) => text.Length > 3000 ? text[^3000..] : text;
}
