using System.Runtime.CompilerServices;
using System.Text.Json.Serialization.Metadata;
using Re6st.Contracts;
using Re6st.Runtime;

namespace Re6st.Agent.Kube;

/// <summary>The collections the agent watches.</summary>
public static class ApiListWatch
{
    public static ApiListWatch<MeshNodeObject> MeshNodes(KubeApiClient client, string? labelSelector, string? fieldSelector, int watchSeconds) => new ApiListWatch<MeshNodeObject>(
        client,
        $"/apis/{Group.Name}/{Group.Version}/{Group.MeshNodePlural}",
        labelSelector,
        fieldSelector,
        watchSeconds,
        KubeJsonContext.Default.ObjectListMeshNodeObject,
        KubeJsonContext.Default.WatchEventMeshNodeObject,
        m => m.Metadata);

    public static ApiListWatch<SecretObject> Secret(KubeApiClient client, string @namespace, string name, int watchSeconds) => new ApiListWatch<SecretObject>(
        client,
        $"/api/v1/namespaces/{Uri.EscapeDataString(@namespace)}/secrets",
        null,
        "metadata.name=" + name,
        watchSeconds,
        KubeJsonContext.Default.ObjectListSecretObject,
        KubeJsonContext.Default.WatchEventSecretObject,
        s => s.Metadata);
}

/// <summary>An informer's list and watch of one collection (<c>/apis/…/meshnodes</c>, a namespace's secrets) with its selectors.</summary>
public sealed class ApiListWatch<T> : IListWatch<T>
    where T : class
{
    private readonly KubeApiClient _client;
    private readonly string _path;
    private readonly string _selectors;
    private readonly int _watchSeconds;
    private readonly JsonTypeInfo<ObjectList<T>> _list;
    private readonly JsonTypeInfo<WatchEvent<T>> _event;
    private readonly Func<T, ObjectMeta> _metadata;

    internal ApiListWatch(KubeApiClient client, string path, string? labelSelector, string? fieldSelector, int watchSeconds, JsonTypeInfo<ObjectList<T>> list, JsonTypeInfo<WatchEvent<T>> watchEvent, Func<T, ObjectMeta> metadata)
    {
        _client = client;
        _path = path;
        _selectors = (labelSelector is null ? "" : "&labelSelector=" + Uri.EscapeDataString(labelSelector))
            + (fieldSelector is null ? "" : "&fieldSelector=" + Uri.EscapeDataString(fieldSelector));
        _watchSeconds = watchSeconds;
        _list = list;
        _event = watchEvent;
        _metadata = metadata;
    }

    public async Task<ListPage<T>> ListAsync(CancellationToken cancellationToken)
    {
        var list = await _client.GetAsync($"{_path}?{_selectors.TrimStart('&')}", _list, cancellationToken).ConfigureAwait(false);
        return new ListPage<T>(list.Items, list.Metadata.ResourceVersion);
    }

    public async IAsyncEnumerable<WatchChange<T>> WatchAsync(string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = $"{_path}?watch=true&allowWatchBookmarks=true&timeoutSeconds={_watchSeconds}&resourceVersion={Uri.EscapeDataString(resourceVersion)}{_selectors}";
        await foreach (var e in _client.WatchAsync(query, _event, cancellationToken).ConfigureAwait(false))
        {
            var type = e.Type switch
            {
                "ADDED" => ChangeType.Added,
                "MODIFIED" => ChangeType.Modified,
                "DELETED" => ChangeType.Deleted,
                "BOOKMARK" => ChangeType.Bookmark,
                _ => ChangeType.Error,
            };
            yield return new WatchChange<T>(type, type == ChangeType.Error ? null : e.Item);
            if (type == ChangeType.Error)
            {
                yield break;
            }
        }
    }

    public string NameOf(T item) => _metadata(item).Name;

    public string? ResourceVersionOf(T item) => _metadata(item).ResourceVersion;
}
