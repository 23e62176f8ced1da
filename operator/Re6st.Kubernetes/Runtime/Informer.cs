using System.Collections.Concurrent;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Re6st.Operator.Runtime;

/// <summary>
/// List, then watch from the list's resourceVersion, keeping an in-memory copy of every object.
/// When the watch ends it resumes from the last version seen; when that version is too old (410
/// Gone) or anything fails, it lists again (with backoff). Reconcilers read this cache instead of
/// listing the API server on every pass.
/// </summary>
public sealed partial class Informer<T, TList>
    where T : class, IKubernetesObject<V1ObjectMeta>
    where TList : IKubernetesObject<V1ListMeta>, IItems<T>
{
    private readonly string _name;
    private readonly Func<bool, string?, CancellationToken, Task<HttpOperationResponse<TList>>> _list;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, T> _cache = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="list">Lists (watch false) or watches (watch true) from a resourceVersion.</param>
    public Informer(string name, Func<bool, string?, CancellationToken, Task<HttpOperationResponse<TList>>> list, ILogger log, TimeProvider time)
    {
        _name = name;
        _list = list;
        _log = log;
        _time = time;
    }

    /// <summary>Added, modified or deleted objects: (type, object, previous copy or null).</summary>
    public event Action<WatchEventType, T, T?>? Changed;

    public bool HasSynced => _synced.Task.IsCompleted;

    public ICollection<T> Items => _cache.Values;

    public T? Get(string name) => _cache.TryGetValue(name, out var item) ? item : null;

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(500);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var version = await ListAsync(cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(500);
                while (version is not null && !cancellationToken.IsCancellationRequested)
                {
                    version = await WatchAsync(version, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Any failure of the API connection: list again after a backoff.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogFailed(_log, _name, backoff.TotalSeconds, e.Message);
                await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, backoff.Ticks * 2));
            }
        }
    }

    private async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        using var response = await _list(false, null, cancellationToken).ConfigureAwait(false);
        var fresh = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in response.Body.Items)
        {
            fresh[item.Metadata.Name] = item;
        }

        foreach (var (name, old) in _cache)
        {
            if (!fresh.ContainsKey(name) && _cache.TryRemove(name, out _))
            {
                Changed?.Invoke(WatchEventType.Deleted, old, old);
            }
        }

        foreach (var (name, item) in fresh)
        {
            var existed = _cache.TryGetValue(name, out var old);
            _cache[name] = item;
            if (!existed || old!.Metadata.ResourceVersion != item.Metadata.ResourceVersion)
            {
                Changed?.Invoke(existed ? WatchEventType.Modified : WatchEventType.Added, item, old);
            }
        }

        LogListed(_log, _name, fresh.Count);
        _synced.TrySetResult();
        return response.Body.Metadata.ResourceVersion;
    }

    /// <summary>Watches until the server ends the stream; returns the version to resume from, or null to list again.</summary>
    private async Task<string?> WatchAsync(string version, CancellationToken cancellationToken)
    {
        var relist = false;
        var response = _list(true, version, cancellationToken);
#pragma warning disable CS0618 // The typed watch over a list call is the only one this client has for custom resources.
        var events = response.WatchAsync<T, TList>(e => relist = true, cancellationToken);
#pragma warning restore CS0618
        await foreach (var (type, item) in events.ConfigureAwait(false))
        {
            if (item?.Metadata is null)
            {
                continue;
            }

            version = item.Metadata.ResourceVersion ?? version;
            switch (type)
            {
                case WatchEventType.Added or WatchEventType.Modified:
                    _cache.TryGetValue(item.Metadata.Name, out var before);
                    _cache[item.Metadata.Name] = item;
                    Changed?.Invoke(type, item, before);
                    break;
                case WatchEventType.Deleted:
                    _cache.TryRemove(item.Metadata.Name, out var gone);
                    Changed?.Invoke(type, item, gone);
                    break;
                case WatchEventType.Error:
                    relist = true;
                    break;
            }

            if (relist)
            {
                break;
            }
        }

        return relist ? null : version;
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "{Resource}: listed {Count} objects")]
    private static partial void LogListed(ILogger log, string resource, int count);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "{Resource}: list/watch failed, listing again in {Seconds}s: {Reason}")]
    private static partial void LogFailed(ILogger log, string resource, double seconds, string reason);
}
