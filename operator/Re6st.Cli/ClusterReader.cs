using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Lab.Cluster;
using Re6st.Operator.Crds;
using Re6st.Operator.Health;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;
using Re6st.Operator.Runtime;

namespace Re6st.Cli;

/// <summary>
/// Reads a cluster's re6st installation (<see cref="ClusterView"/>) from its API server, for
/// <c>re6st status</c> and <c>re6st check</c>: the CRDs, the operator's Lease and pods, the
/// agents' pods, and every Mesh with its policy and MeshNodes.
/// </summary>
public sealed class ClusterReader : IDisposable
{
    private const string PodSelector = "app.kubernetes.io/name=re6st";
    private const string LeaseName = "re6st-operator";
    private const string RegionLabel = "topology.kubernetes.io/region";

    private readonly Kubernetes _client;

    private ClusterReader(Kubernetes client, string where, string installNamespace)
    {
        _client = client;
        Where = where;
        Namespace = installNamespace;
    }

    /// <summary>Which cluster this reads ("the lab's kubeconfig .lab/kubeconfig", "context x of ~/.kube/config").</summary>
    public string Where { get; }

    /// <summary>The namespace re6st is installed in.</summary>
    public string Namespace { get; }

    /// <summary>
    /// A reader for a cluster: the <paramref name="kubeconfig"/> named, else $KUBECONFIG, else the
    /// lab's when one runs, else ~/.kube/config, else the pod's service account; re6st installed in
    /// <paramref name="installNamespace"/> (default re6st-system).
    /// </summary>
    public static ClusterReader Open(string? kubeconfig, string? context, string? installNamespace, string repository)
    {
        var (config, where) = Config(kubeconfig, context, repository);
        return new ClusterReader(new Kubernetes(config), context is null ? where : $"context {context} of {where}", installNamespace ?? "re6st-system");
    }

    private static (KubernetesClientConfiguration Config, string Where) Config(string? kubeconfig, string? context, string repository)
    {
        if (kubeconfig is not null)
        {
            return File.Exists(kubeconfig)
                ? (KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig, context), kubeconfig)
                : throw new UsageException($"--kubeconfig: {kubeconfig}: no such file");
        }

        var fromEnvironment = Environment.GetEnvironmentVariable("KUBECONFIG")?.Split(Path.PathSeparator).FirstOrDefault(File.Exists);
        if (fromEnvironment is not null)
        {
            return (KubernetesClientConfiguration.BuildConfigFromConfigFile(fromEnvironment, context), $"$KUBECONFIG ({fromEnvironment})");
        }

        if (OperatingSystem.IsLinux() && LabState.Read(Path.Combine(repository, ".lab")) is { Kubeconfig: { } lab } && File.Exists(lab))
        {
            return (KubernetesClientConfiguration.BuildConfigFromConfigFile(lab, context), $"the lab's kubeconfig ({Path.GetRelativePath(Environment.CurrentDirectory, lab)})");
        }

        var home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        if (File.Exists(home))
        {
            return (KubernetesClientConfiguration.BuildConfigFromConfigFile(home, context), home);
        }

        return KubernetesClientConfiguration.IsInCluster()
            ? (KubernetesClientConfiguration.InClusterConfig(), "the pod's service account")
            : throw new UsageException("no cluster to read: name a kubeconfig with --kubeconfig, set KUBECONFIG, or start a lab (re6st lab up)");
    }

    /// <summary>The installation as it is now; <paramref name="mesh"/> keeps one mesh only.</summary>
    public async Task<ClusterView> ReadAsync(string? mesh, CancellationToken cancellationToken)
    {
        var crds = await Task.WhenAll(CrdGenerator.All().Select(c => CrdAsync(c, cancellationToken)));
        var lease = await LeaseAsync(cancellationToken);
        var pods = (await _client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: PodSelector, cancellationToken: cancellationToken)).Items;
        var meshes = new List<MeshView>();
        if (crds.All(c => c.Installed))
        {
            var all = (await _client.CustomObjects.ListClusterCustomObjectAsync<ResourceList<V1Alpha1Mesh>>(Group.Name, Group.Version, V1Alpha1Mesh.Plural, cancellationToken: cancellationToken)).Items;
            var policies = (await _client.CustomObjects.ListClusterCustomObjectAsync<ResourceList<V1Alpha1RandomizationPolicy>>(Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural, cancellationToken: cancellationToken)).Items;
            var nodes = (await _client.CustomObjects.ListClusterCustomObjectAsync<ResourceList<V1Alpha1MeshNode>>(Group.Name, Group.Version, V1Alpha1MeshNode.Plural, cancellationToken: cancellationToken)).Items;
            if (mesh is not null && all.All(m => m.Metadata.Name != mesh))
            {
                throw new UsageException($"--mesh: no Mesh '{mesh}' (there {(all.Count == 1 ? "is" : "are")} {(all.Count == 0 ? "none" : string.Join(", ", all.Select(m => m.Metadata.Name)))})");
            }

            var regions = await RegionsAsync(cancellationToken);
            foreach (var m in all.Where(m => mesh is null || m.Metadata.Name == mesh))
            {
                var policyName = m.Spec.PolicyRef ?? V1Alpha1RandomizationPolicy.DefaultName;
                List<V1Alpha1MeshNode> members = [.. nodes.Where(n => n.Spec.Mesh == m.Metadata.Name)];
                var secret = members.Select(n => n.Spec.Babel?.KeySecret).FirstOrDefault(s => s is not null) ?? $"{Namespace}/{KeySecrets.NameFor(m.Metadata.Name)}";
                meshes.Add(new MeshView(m, policyName, policies.FirstOrDefault(p => p.Metadata.Name == policyName), members)
                {
                    Regions = regions,
                    Key = await KeyAsync(secret, cancellationToken),
                });
            }
        }

        return new ClusterView(
            DateTimeOffset.UtcNow,
            crds,
            lease,
            [.. pods.Where(p => Component(p) == "operator").Select(Pod)],
            [.. pods.Where(p => Component(p) == "agent").Select(Pod)],
            meshes);
    }

    public void Dispose() => _client.Dispose();

    private async Task<CrdView> CrdAsync(V1CustomResourceDefinition ours, CancellationToken cancellationToken)
    {
        var name = ours.Metadata.Name;
        try
        {
            var installed = await _client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(name, cancellationToken: cancellationToken);
            var served = installed.Spec.Versions.FirstOrDefault(v => v.Name == Group.Version);
            if (served is null)
            {
                return new CrdView(name, true, $"does not serve {Group.Version}");
            }

            var mine = JsonNode.Parse(KubernetesJson.Serialize(ours.Spec.Versions.Single(v => v.Name == Group.Version).Schema.OpenAPIV3Schema));
            var theirs = JsonNode.Parse(KubernetesJson.Serialize(served.Schema?.OpenAPIV3Schema));
            return new CrdView(name, true, JsonDifference.First(mine, theirs, "schema"));
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return new CrdView(name, false, null);
        }
    }

    /// <summary>Each Node's region label; none when this reader may not list Nodes (a namespaced user).</summary>
    private async Task<IReadOnlyDictionary<string, string>> RegionsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var nodes = await _client.CoreV1.ListNodeAsync(cancellationToken: cancellationToken);
            return nodes.Items
                .Where(n => n.Metadata.Labels?.ContainsKey(RegionLabel) == true)
                .ToDictionary(n => n.Metadata.Name, n => n.Metadata.Labels[RegionLabel], StringComparer.Ordinal);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            return new Dictionary<string, string>();
        }
    }

    /// <summary>The key Secret <paramref name="secret"/> ("namespace/name"): which keys it holds and which signs, never their values.</summary>
    private async Task<KeyView> KeyAsync(string secret, CancellationToken cancellationToken)
    {
        var (space, name) = MeshNodeBabel.SecretOf(secret) ?? (Namespace, secret);
        try
        {
            var read = await _client.CoreV1.ReadNamespacedSecretAsync(name, space, cancellationToken: cancellationToken);
            return new KeyView(secret, true, KeySecrets.SigningKeyOf(read), [.. (read.Data?.Keys ?? []).Order(StringComparer.Ordinal)]);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return new KeyView(secret, false, null, []);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            return new KeyView(secret, false, null, [], $"{(int)e.Response.StatusCode} {e.Response.StatusCode}");
        }
    }

    private async Task<LeaseView?> LeaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            var lease = await _client.CoordinationV1.ReadNamespacedLeaseAsync(LeaseName, Namespace, cancellationToken: cancellationToken);
            DateTimeOffset? renewed = lease.Spec.RenewTime is { } t ? new DateTimeOffset(t.ToUniversalTime()) : null;
            return new LeaseView(Namespace, LeaseName, lease.Spec.HolderIdentity, renewed, TimeSpan.FromSeconds(lease.Spec.LeaseDurationSeconds ?? 15));
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static string? Component(V1Pod pod) => pod.Metadata.Labels?.TryGetValue("app.kubernetes.io/component", out var c) == true ? c : null;

    private static PodView Pod(V1Pod pod) => new(
        pod.Metadata.NamespaceProperty,
        pod.Metadata.Name,
        pod.Spec.NodeName,
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
}
