using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Re6st.Contracts;
using Re6st.Runtime;

namespace Re6st.Operator.Runtime;

/// <summary>Informers over the re6st custom resources, for the operator's caches.</summary>
public static class Informers
{
    /// <summary>An informer over the cluster-scoped resources <paramref name="plural"/> that the selectors pick.</summary>
    public static Informer<T> Custom<T>(
        IKubernetes client,
        string plural,
        string? labelSelector,
        string? fieldSelector,
        ILogger log,
        TimeProvider time,
        int watchSeconds = ListWatch.WatchSeconds)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        return new(
            fieldSelector is null ? plural : $"{plural} ({fieldSelector})",
            new KubernetesListWatch<T, ResourceList<T>>((watch, version, ct) => client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<ResourceList<T>>(
                Group.Name,
                Group.Version,
                plural,
                allowWatchBookmarks: watch ? true : null,
                fieldSelector: fieldSelector,
                labelSelector: labelSelector,
                resourceVersion: version,
                timeoutSeconds: watch ? watchSeconds : null,
                watch: watch,
                cancellationToken: ct)),
            log,
            time);
    }
}
