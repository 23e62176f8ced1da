using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;
using Re6st.Operator.Runtime;

namespace Re6st.Integration.Tests.Fixtures;

/// <summary>What the tests do to the API server, as an administrator would with kubectl.</summary>
public sealed class Cluster(ApiServer server)
{
    private static int s_range;

    public Kubernetes Admin => server.Admin;

    /// <summary>A fresh /48 for one test's mesh, so meshes of different tests never overlap.</summary>
    public static string NewRange() => $"fd5e:{0x1000 + Interlocked.Increment(ref s_range):x4}::/48";

    public static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";

    public async Task<List<string>> CreateNodesAsync(string prefix, int count, IDictionary<string, string> labels, int start = 0)
    {
        var names = new List<string>();
        for (var i = start; i < start + count; i++)
        {
            var name = $"{prefix}-{i:D3}";
            await Admin.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string>(labels) } });
            names.Add(name);
        }

        return names;
    }

    public Task DeleteNodeAsync(string name) => Admin.CoreV1.DeleteNodeAsync(name);

    public Task CreateAsync<T>(T resource, string plural)
        where T : IKubernetesObject<V1ObjectMeta> =>
        Admin.CustomObjects.CreateClusterCustomObjectAsync(resource, Group.Name, Group.Version, plural);

    public async Task<V1Alpha1Mesh?> MeshAsync(string name)
    {
        try
        {
            return await Admin.CustomObjects.GetClusterCustomObjectAsync<V1Alpha1Mesh>(Group.Name, Group.Version, V1Alpha1Mesh.Plural, name);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<V1Alpha1RandomizationPolicy> PolicyAsync(string name) =>
        await Admin.CustomObjects.GetClusterCustomObjectAsync<V1Alpha1RandomizationPolicy>(Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural, name);

    public async Task<List<V1Alpha1MeshNode>> MeshNodesAsync(string mesh) =>
        [.. (await Admin.CustomObjects.ListClusterCustomObjectAsync<ResourceList<V1Alpha1MeshNode>>(
            Group.Name, Group.Version, V1Alpha1MeshNode.Plural, labelSelector: $"{Group.MeshLabel}={mesh}")).Items];

    public Task DeleteMeshAsync(string name) =>
        Admin.CustomObjects.DeleteClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1Mesh.Plural, name);

    /// <summary>Polls until <paramref name="check"/> holds; on timeout fails with what was last seen (as JSON, or as <paramref name="describe"/> says).</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> check, TimeSpan timeout, string what, MemoryLogger? log = null, Func<T, string>? describe = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last;
        do
        {
            last = await read();
            if (check(last))
            {
                return last;
            }

            await Task.Delay(150);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"{what}: not true within {timeout.TotalSeconds:F0} s; last seen: {(describe is null ? KubernetesJson.Serialize(last) : describe(last))}"
            + (log is null ? "" : "\noperator log:\n" + log.Tail()));
    }

    public Task<V1Alpha1Mesh?> PlannedMeshAsync(string name, int nodes, MemoryLogger log, TimeSpan? timeout = null) => EventuallyAsync(
        () => MeshAsync(name),
        m => m?.Status?.ObservedGeneration == m?.Metadata.Generation && m?.Status?.Nodes == nodes && Conditions.IsTrue(m?.Status?.Conditions, Conditions.Planned),
        timeout ?? TimeSpan.FromSeconds(60),
        $"mesh {name} planned with {nodes} nodes",
        log);

    public static V1Alpha1Mesh Mesh(string name, string testLabel, Action<MeshSpecResource>? edit = null)
    {
        var spec = new MeshSpecResource
        {
            Ipv6Range = NewRange(),
            Ipv4Range = null,
            NodeSelector = new LabelSelectorResource { MatchLabels = new Dictionary<string, string> { ["re6st.io/test"] = testLabel } },
        };
        edit?.Invoke(spec);
        return new V1Alpha1Mesh { Metadata = new V1ObjectMeta { Name = name }, Spec = spec };
    }
}
