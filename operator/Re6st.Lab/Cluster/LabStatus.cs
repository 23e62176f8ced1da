using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using Re6st.Core.Addressing;
using Re6st.Lab.Netns;

namespace Re6st.Lab.Cluster;

/// <summary>
/// A running lab in figures, for scripts (<c>lab status --json</c>): its Nodes and how many are
/// Ready, re6st's pods and how many run, and how many ordered pairs of hosts answer a ping over
/// the mesh, measured when it is read.
/// </summary>
public sealed record LabStatus(
    string Kind,
    string Mesh,
    bool MeshReady,
    int Nodes,
    int ReadyNodes,
    int AgentPods,
    int AgentPodsRunning,
    int OperatorPodsRunning,
    int Pairs,
    int ReachablePairs,
    IReadOnlyList<string> UnreachablePairs)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static async Task<LabStatus> ReadAsync(LabState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(state.Kubeconfig));
        var nodes = (await client.CoreV1.ListNodeAsync(cancellationToken: cancellationToken)).Items;
        var ready = nodes.Count(Kube.KubeNode.IsReady);
        var pods = state.Kind == LabKind.RealNodes
            ? (await client.CoreV1.ListNamespacedPodAsync(Kube.RealCluster.Namespace, cancellationToken: cancellationToken)).Items
            : [];
        string? Component(k8s.Models.V1Pod p) => p.Metadata.Labels?.TryGetValue("app.kubernetes.io/component", out var c) == true ? c : null;
        var agents = pods.Where(p => Component(p) == "agent").ToList();
        var operators = pods.Where(p => Component(p) == "operator").ToList();

        var meshReady = await LabSnapshot.ReadyAsync(client, state.Mesh!, cancellationToken) is null;
        var meshNodes = (await LabSnapshot.MeshNodesAsync(client, state.Mesh!, cancellationToken)).ToDictionary(n => n.Spec.Node, StringComparer.Ordinal);
        var hosts = state.Nodes.Select((n, i) => meshNodes.TryGetValue(n.Name, out var m)
            ? new LabHost(n.Name, n.Namespace, i + 1) { Ipv6Prefix = IpPrefix.Parse(m.Spec.Ipv6Prefix) }
            : null).ToList();
        var pairs = state.Nodes.Count * (state.Nodes.Count - 1);
        var addressed = hosts.OfType<LabHost>().ToList();
        var unreachable = (await LabCluster.UnreachablePairsAsync(addressed)).ToList();
        unreachable.AddRange(state.Nodes.Where((n, i) => hosts[i] is null).Select(n => $"{n.Name}: no MeshNode"));
        var reachable = addressed.Count * (addressed.Count - 1) - unreachable.Count(u => u.Contains("->", StringComparison.Ordinal));
        return new LabStatus(
            state.Kind == LabKind.RealNodes ? "real-nodes" : "processes",
            state.Mesh!,
            meshReady,
            nodes.Count,
            ready,
            agents.Count,
            agents.Count(p => p.Status?.Phase == "Running"),
            operators.Count(p => p.Status?.Phase == "Running"),
            pairs,
            reachable,
            unreachable);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
