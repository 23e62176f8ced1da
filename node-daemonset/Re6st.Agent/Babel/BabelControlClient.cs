using System.Net.Sockets;
using System.Text;

namespace Re6st.Agent.Babel;

/// <summary>
/// A client of babeld's local control socket (<c>local-path-readwrite</c>). It sends
/// <c>monitor</c>, which answers with a full dump then <c>ok</c>, then streams every change; the
/// dump is built aside and published at the <c>ok</c>, so <see cref="State"/> never shows half a
/// table. When babeld goes away (crash, restart) it reconnects by itself.
/// </summary>
public sealed class BabelControlClient : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(2);

    private readonly string _socketPath;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly CancellationTokenSource _stop = new();

    // CAVEAT: babeld 1.12 answers "bad" to every line of a read() that brought several requests
    // (measured: "no-such-statement\ninterface v0 rxcost 300\nbogus\n" in one write gives bad, bad,
    // bad; one at a time, bad, ok, bad). So one request is outstanding at a time, "monitor" included.
    private readonly SemaphoreSlim _requestTurn = new(1, 1);
    private readonly Lock _gate = new();

    // Requests awaiting their ok/no/bad, in the order they were written (babeld answers in order).
    private readonly Queue<TaskCompletionSource<BabelReply>> _pending = new();
    private Stream? _stream;
    private Task? _loop;
    private BabelState _state = BabelState.Empty;
    private int _generation;
    private long _unknownLines;

    public BabelControlClient(string socketPath, TimeProvider? time = null, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        _socketPath = socketPath;
        _time = time ?? TimeProvider.System;
        _log = log ?? (_ => { });
    }

    /// <summary>Raised on the client's reader after each published change; handlers must be quick.</summary>
    public event Action<BabelState>? StateChanged;

    public BabelState State => Volatile.Read(ref _state);

    /// <summary>Lines this parser did not understand (a newer babeld?); they are skipped.</summary>
    public long UnknownLines => Interlocked.Read(ref _unknownLines);

    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            if (_loop is not null)
            {
                throw new InvalidOperationException("the client is already started");
            }

            _loop = Task.Run(() => RunAsync(_stop.Token));
        }
    }

    /// <summary>
    /// Sends one request (any configuration statement, <c>flush interface X</c>, ...) and returns
    /// babeld's answer: <see cref="BabelReply.Bad"/> for a request it could not parse. Throws
    /// <see cref="IOException"/> when the connection is lost before the answer.
    /// </summary>
    public async Task<BabelReply> SendAsync(string request, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(request);
        if (request.AsSpan().ContainsAny('\n', '\r'))
        {
            throw new ArgumentException("a request is one line", nameof(request));
        }

        await _requestTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        Task<BabelReply> reply;
        try
        {
            Stream stream;
            lock (_gate)
            {
                stream = _stream ?? throw new InvalidOperationException($"not connected to babeld at {_socketPath}");
            }

            reply = await WriteRequestAsync(stream, request, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException e)
        {
            _requestTurn.Release();
            throw new IOException($"the connection to babeld at {_socketPath} was lost", e);
        }
        catch
        {
            _requestTurn.Release();
            throw;
        }

        // The turn passes on when the answer is in (or the connection is lost), even if this caller
        // stops waiting: the next request must not reach babeld before this one is answered.
        _ = reply.ContinueWith(_ => _requestTurn.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return await reply.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the state; the timeout's message carries the last state.</summary>
    public async Task<BabelState> WaitForAsync(Func<BabelState, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var reached = new TaskCompletionSource<BabelState>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check(BabelState state)
        {
            try
            {
                if (condition(state))
                {
                    reached.TrySetResult(state);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                reached.TrySetException(e);
            }
        }

        StateChanged += Check;
        try
        {
            Check(State);
            return await reached.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"babeld at {_socketPath} did not reach the expected state within {timeout.TotalSeconds:0.#} s; last state: {State}");
        }
        finally
        {
            StateChanged -= Check;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_gate)
        {
            loop = _loop;
            if (!_stop.IsCancellationRequested)
            {
                _stop.Cancel();
            }
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var retry = FirstRetry;
        string? lastError = null;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await SessionAsync(stop).ConfigureAwait(false);
                retry = FirstRetry;
                lastError = null;
                _log($"babeld control: {_socketPath} closed");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
            {
                // Connection refused or a missing socket repeat while babeld restarts: say it once.
                if (e.Message != lastError)
                {
                    _log($"babeld control: {_socketPath}: {e.Message}; retrying");
                    lastError = e.Message;
                }
            }

            Disconnected();
            try
            {
                await Task.Delay(retry, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            retry = retry * 2 < MaxRetry ? retry * 2 : MaxRetry;
        }

        Disconnected();
    }

    private async Task SessionAsync(CancellationToken stop)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(_socketPath), stop).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);

        // Banner: "BABEL 1.0", informational lines, "ok".
        var state = BabelState.Empty;
        while (true)
        {
            var line = await reader.ReadLineAsync(stop).ConfigureAwait(false)
                ?? throw new IOException("babeld closed the connection during its banner");
            switch (BabelLineParser.Parse(line))
            {
                case BabelInfoEvent { Key: "BABEL", Value: var protocol } when !protocol.StartsWith("1.", StringComparison.Ordinal):
                    throw new InvalidDataException($"babeld speaks control protocol {protocol}, this client 1.x");
                case BabelInfoEvent { Key: "version", Value: var version }:
                    state = state with { Version = version };
                    continue;
                case BabelInfoEvent { Key: "my-id", Value: var id }:
                    state = state with { RouterId = id };
                    continue;
                case BabelReplyEvent { Reply: BabelReply.Ok }:
                    break;
                case BabelReplyEvent reply:
                    throw new InvalidDataException($"babeld refused the connection ({reply.Reply})");
                default:
                    continue;
            }

            break;
        }

        await _requestTurn.WaitAsync(stop).ConfigureAwait(false);
        var holdingTurn = true;
        lock (_gate)
        {
            _stream = stream;
        }

        try
        {
            var monitor = await WriteRequestAsync(stream, "monitor", stop).ConfigureAwait(false);
            var dumping = true;
            while (await reader.ReadLineAsync(stop).ConfigureAwait(false) is { } line)
            {
                switch (BabelLineParser.Parse(line))
                {
                    case BabelEntryEvent update:
                        state = state.Apply(update);
                        if (!dumping)
                        {
                            Publish(state);
                        }

                        break;
                    case BabelReplyEvent reply:
                        if (!CompleteNext(reply.Reply))
                        {
                            _log($"babeld control: unexpected '{line}'");
                        }

                        if (dumping && monitor.IsCompleted)
                        {
                            dumping = false;
                            holdingTurn = false;
                            _requestTurn.Release();
                            state = state with { Connected = true, Generation = Interlocked.Increment(ref _generation) };
                            Publish(state);
                            _log($"babeld control: connected to {state.Version} at {_socketPath} ({state.Routes.Count} routes, {state.Neighbours.Count} neighbours)");
                        }

                        break;
                    case BabelUnknownEvent unknown:
                        if (Interlocked.Increment(ref _unknownLines) <= 10)
                        {
                            _log($"babeld control: skipped '{unknown.Line}': {unknown.Reason}");
                        }

                        break;
                }
            }
        }
        finally
        {
            // Before the stream is disposed, so that no request is written to a closed connection.
            Disconnected();
            if (holdingTurn)
            {
                _requestTurn.Release();
            }
        }
    }

    /// <summary>Writes one request and returns the task of its reply. The caller holds the request turn.</summary>
    private async Task<Task<BabelReply>> WriteRequestAsync(Stream stream, string request, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource<BabelReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (!ReferenceEquals(stream, _stream))
            {
                throw new IOException($"the connection to babeld at {_socketPath} was lost");
            }

            _pending.Enqueue(reply);
        }

        // A failed write leaves the request queued: the session ends and fails it with the rest.
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request + "\n"), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        return reply.Task;
    }

    private bool CompleteNext(BabelReply reply)
    {
        TaskCompletionSource<BabelReply>? next;
        lock (_gate)
        {
            _pending.TryDequeue(out next);
        }

        return next?.TrySetResult(reply) ?? false;
    }

    private void Disconnected()
    {
        TaskCompletionSource<BabelReply>[] failed;
        lock (_gate)
        {
            _stream = null;
            failed = [.. _pending];
            _pending.Clear();
        }

        foreach (var request in failed)
        {
            request.TrySetException(new IOException($"the connection to babeld at {_socketPath} was lost"));
        }

        var state = State;
        if (state.Connected)
        {
            Publish(state with { Connected = false });
        }
    }

    private void Publish(BabelState state)
    {
        Volatile.Write(ref _state, state);
        try
        {
            StateChanged?.Invoke(state);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A faulty subscriber must not cut the connection to babeld.
            _log($"babeld control: a state subscriber failed: {e.Message}");
        }
    }
}
