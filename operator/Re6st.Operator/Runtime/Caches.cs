using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Re6st.Contracts;
using Re6st.Operator.Resources;
using Re6st.Runtime;

namespace Re6st.Operator.Runtime;

/// <summary>The operator's informers: what it watches, cached in memory.</summary>
public sealed class Caches
{
    public Caches(IKubernetes client, ILoggerFactory logs, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(logs);
        var log = logs.CreateLogger("re6st.informer");
        Meshes = Informers.Custom<V1Alpha1Mesh>(client, V1Alpha1Mesh.Plural, null, null, log, time);
        Policies = Informers.Custom<V1Alpha1RandomizationPolicy>(client, V1Alpha1RandomizationPolicy.Plural, null, null, log, time);
        MeshNodes = Informers.Custom<V1Alpha1MeshNode>(client, V1Alpha1MeshNode.Plural, Group.MeshLabel, null, log, time);
        Nodes = new Informer<V1Node>(
            "nodes",
            new KubernetesListWatch<V1Node, V1NodeList>((watch, version, ct) => client.CoreV1.ListNodeWithHttpMessagesAsync(
                allowWatchBookmarks: watch ? true : null,
                resourceVersion: version,
                timeoutSeconds: watch ? ListWatch.WatchSeconds : null,
                watch: watch,
                cancellationToken: ct)),
            log,
            time);
    }

    public Informer<V1Alpha1Mesh> Meshes { get; }

    public Informer<V1Alpha1RandomizationPolicy> Policies { get; }

    public Informer<V1Alpha1MeshNode> MeshNodes { get; }

    public Informer<V1Node> Nodes { get; }

    public IEnumerable<Task> Run(CancellationToken cancellationToken) =>
        [Meshes.RunAsync(cancellationToken), Policies.RunAsync(cancellationToken), MeshNodes.RunAsync(cancellationToken), Nodes.RunAsync(cancellationToken)];

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => Task.WhenAll(
        Meshes.WaitForSyncAsync(cancellationToken),
        Policies.WaitForSyncAsync(cancellationToken),
        MeshNodes.WaitForSyncAsync(cancellationToken),
        Nodes.WaitForSyncAsync(cancellationToken));

    public List<V1Alpha1MeshNode> MeshNodesOf(string mesh) =>
        [.. MeshNodes.Items.Where(m => m.Metadata.Labels is { } l && l.TryGetValue(Group.MeshLabel, out var v) && v == mesh)];
}
