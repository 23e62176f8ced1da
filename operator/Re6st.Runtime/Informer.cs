using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Re6st.Runtime;

/// <summary>
/// List, then watch from the list's resourceVersion, keeping an in-memory copy of every object.
/// When the watch ends it resumes from the last version seen; when that version is too old (410
/// Gone) or anything fails, it lists again (with backoff). Reconcilers read this cache instead of
/// listing the API server on every pass.
/// </summary>
public sealed partial class Informer<T>
    where T : class
{
    private readonly string _name;
    private readonly IListWatch<T> _source;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, T> _cache = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Informer(string name, IListWatch<T> source, ILogger log, TimeProvider time)
    {
        _name = name;
        _source = source;
        _log = log;
        _time = time;
    }

    /// <summary>Added, modified or deleted objects: (type, object, previous copy or null).</summary>
    public event Action<ChangeType, T, T?>? Changed;

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
        var page = await _source.ListAsync(cancellationToken).ConfigureAwait(false);
        var fresh = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in page.Items)
        {
            fresh[_source.NameOf(item)] = item;
        }

        foreach (var (name, old) in _cache)
        {
            if (!fresh.ContainsKey(name) && _cache.TryRemove(name, out _))
            {
                Changed?.Invoke(ChangeType.Deleted, old, old);
            }
        }

        foreach (var (name, item) in fresh)
        {
            var existed = _cache.TryGetValue(name, out var old);
            _cache[name] = item;
            if (!existed || _source.ResourceVersionOf(old!) != _source.ResourceVersionOf(item))
            {
                Changed?.Invoke(existed ? ChangeType.Modified : ChangeType.Added, item, old);
            }
        }

        LogListed(_log, _name, fresh.Count);
        _synced.TrySetResult();
        return page.ResourceVersion;
    }

    /// <summary>Watches until the server ends the stream; returns the version to resume from, or null to list again.</summary>
    private async Task<string?> WatchAsync(string version, CancellationToken cancellationToken)
    {
        await foreach (var (type, item) in _source.WatchAsync(version, cancellationToken).ConfigureAwait(false))
        {
            if (type == ChangeType.Error)
            {
                return null;
            }

            if (item is null)
            {
                continue;
            }

            version = _source.ResourceVersionOf(item) ?? version;
            var name = _source.NameOf(item);
            switch (type)
            {
                case ChangeType.Added or ChangeType.Modified:
                    _cache.TryGetValue(name, out var before);
                    _cache[name] = item;
                    Changed?.Invoke(type, item, before);
                    break;
                case ChangeType.Deleted:
                    _cache.TryRemove(name, out var gone);
                    Changed?.Invoke(type, item, gone);
                    break;
            }
        }

        return version;
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "{Resource}: listed {Count} objects")]
    private static partial void LogListed(ILogger log, string resource, int count);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "{Resource}: list/watch failed, listing again in {Seconds}s: {Reason}")]
    private static partial void LogFailed(ILogger log, string resource, double seconds, string reason);
}
