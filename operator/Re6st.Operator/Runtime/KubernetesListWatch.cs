using System.Runtime.CompilerServices;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Re6st.Runtime;

namespace Re6st.Operator.Runtime;

/// <summary>An informer's list and watch through KubernetesClient: one list call, with watch false or true.</summary>
public sealed class KubernetesListWatch<T, TList>(Func<bool, string?, CancellationToken, Task<HttpOperationResponse<TList>>> list) : IListWatch<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
    where TList : IKubernetesObject<V1ListMeta>, IItems<T>
{
    public async Task<ListPage<T>> ListAsync(CancellationToken cancellationToken)
    {
        using var response = await list(false, null, cancellationToken).ConfigureAwait(false);
        return new ListPage<T>([.. response.Body.Items], response.Body.Metadata.ResourceVersion);
    }

    public async IAsyncEnumerable<WatchChange<T>> WatchAsync(string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var failed = false;
#pragma warning disable CS0618 // The typed watch over a list call is the only one this client has for custom resources.
        var events = list(true, resourceVersion, cancellationToken).WatchAsync<T, TList>(_ => failed = true, cancellationToken);
#pragma warning restore CS0618
        await foreach (var (type, item) in events.ConfigureAwait(false))
        {
            failed |= type == WatchEventType.Error;
            if (failed)
            {
                break;
            }

            if (item?.Metadata is not null)
            {
                yield return new WatchChange<T>(Of(type), item);
            }
        }

        if (failed)
        {
            yield return new WatchChange<T>(ChangeType.Error, null);
        }
    }

    public string NameOf(T item) => item.Metadata.Name;

    public string? ResourceVersionOf(T item) => item.Metadata.ResourceVersion;

    private static ChangeType Of(WatchEventType type) => type switch
    {
        WatchEventType.Added => ChangeType.Added,
        WatchEventType.Modified => ChangeType.Modified,
        WatchEventType.Deleted => ChangeType.Deleted,
        WatchEventType.Bookmark => ChangeType.Bookmark,
        _ => ChangeType.Error,
    };
}
