using System.Threading.Channels;

namespace Re6st.Operator.Runtime;

/// <summary>
/// A coalescing work queue of keys to reconcile: a key enqueued many times before it is processed is processed once
/// (a burst of watch events gives one global recompute); a key is never processed by two workers
/// at once (an enqueue while it runs makes it run again after); failures retry with per-key
/// exponential backoff.
/// </summary>
public sealed class ReconcileScheduler : IDisposable
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _pending = [];
    private readonly HashSet<string> _running = [];
    private readonly HashSet<string> _dirty = [];
    private readonly Dictionary<string, int> _failures = [];
    private readonly Channel<string> _ready = Channel.CreateUnbounded<string>();
    private readonly TimeProvider _time;
    private readonly TimeSpan _debounce;
    private readonly CancellationTokenSource _disposed = new();

    public ReconcileScheduler(TimeProvider time, TimeSpan debounce)
    {
        _time = time;
        _debounce = debounce;
    }

    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count + _dirty.Count;
            }
        }
    }

    /// <summary>Schedules <paramref name="key"/> after the debounce delay, unless it is already scheduled.</summary>
    public void Enqueue(string key) => Schedule(key, _debounce);

    /// <summary>Processes keys with <paramref name="work"/> until cancelled; <paramref name="workers"/> keys at a time.</summary>
    public async Task RunAsync(Func<string, CancellationToken, Task> work, int workers, Action<string, Exception> onError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(onError);
        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            await foreach (var key in _ready.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                lock (_lock)
                {
                    _pending.Remove(key);
                    if (!_running.Add(key))
                    {
                        _dirty.Add(key);
                        continue;
                    }
                }

                var failed = false;
                try
                {
                    await work(key, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
#pragma warning disable CA1031 // A failing key must not stop the queue: it is retried with backoff.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failed = true;
                    onError(key, e);
                }

                TimeSpan? again = null;
                lock (_lock)
                {
                    _running.Remove(key);
                    if (failed)
                    {
                        var n = _failures[key] = _failures.GetValueOrDefault(key) + 1;
                        again = TimeSpan.FromMilliseconds(Math.Min(60_000, 250 * Math.Pow(2, Math.Min(n - 1, 10))));
                    }
                    else
                    {
                        _failures.Remove(key);
                    }

                    if (_dirty.Remove(key))
                    {
                        again ??= _debounce;
                    }
                }

                if (again is { } delay)
                {
                    Schedule(key, delay);
                }
            }
        }, cancellationToken));
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
        _ready.Writer.TryComplete();
    }

    private void Schedule(string key, TimeSpan delay)
    {
        lock (_lock)
        {
            if (_running.Contains(key))
            {
                _dirty.Add(key);
                return;
            }

            if (!_pending.Add(key))
            {
                return;
            }
        }

        if (delay <= TimeSpan.Zero)
        {
            _ready.Writer.TryWrite(key);
            return;
        }

        _ = Task.Delay(delay, _time, _disposed.Token).ContinueWith(
            t =>
            {
                if (!t.IsCanceled)
                {
                    _ready.Writer.TryWrite(key);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
