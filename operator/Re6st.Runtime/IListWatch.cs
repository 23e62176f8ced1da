namespace Re6st.Runtime;

/// <summary>
/// How an <see cref="Informer{T}"/> reaches the API server: list, then watch from a resourceVersion.
/// The operator answers it with KubernetesClient, the agent with its own small client; the
/// informer's logic (cache, resume, relist, backoff) is the same for both.
/// </summary>
public interface IListWatch<T>
    where T : class
{
    /// <summary>Every object the selectors pick, and the list's resourceVersion to watch from.</summary>
    Task<ListPage<T>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The changes after <paramref name="resourceVersion"/> until the server ends the stream.
    /// An <see cref="ChangeType.Error"/> event (e.g. 410 Gone: that version is too old) makes the
    /// informer list again.
    /// </summary>
    IAsyncEnumerable<WatchChange<T>> WatchAsync(string resourceVersion, CancellationToken cancellationToken);

    string NameOf(T item);

    string? ResourceVersionOf(T item);
}

public sealed record ListPage<T>(IReadOnlyList<T> Items, string ResourceVersion);

/// <summary>One watch event; <see cref="Item"/> is null for an error.</summary>
public readonly record struct WatchChange<T>(ChangeType Type, T? Item);

public enum ChangeType
{
    Added,
    Modified,
    Deleted,

    /// <summary>The server only says how far the stream has come (no object changed).</summary>
    Bookmark,

    Error,
}

public static class ListWatch
{
    /// <summary>The server ends each watch after this long; the informer resumes from the last version.</summary>
    public const int WatchSeconds = 300;
}
