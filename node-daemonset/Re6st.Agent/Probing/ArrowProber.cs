using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Re6st.Agent.Host;

namespace Re6st.Agent.Probing;

/// <summary>
/// Fast failure detection inside the tunnels. Babel's hellos notice a silently dead arrow only
/// after several lost hellos (3.4-4.8 s at hello 1 s, 13.6-15.6 s at 4 s); here every arrow gets an
/// ICMPv6 echo request to all-nodes (ff02::1) on its interface every <see cref="ProbeOptions.Interval"/>,
/// which the far end's kernel answers (no agent needed there). An arrow that stops answering for
/// <see cref="ProbeOptions.DeadAfter"/> (or never answers within <see cref="ProbeOptions.SetupGrace"/>)
/// is reported dead once, so the agent takes it out of Babel at once. The silence must span probes
/// this process really sent: a starved agent does not condemn its arrows for its own lateness.
/// Measured inside the tunnel, these probes are also the arrow's rtt (trust no arrow).
/// An end that removes an arrow on purpose first says goodbye inside the tunnel
/// (<see cref="SayGoodbyeAsync"/>): the far end's prober reports the arrow closed at once, so that
/// end takes it out of Babel before the tunnel goes rather than a second later, when its own status
/// or probes would tell it (its routes over the arrow would go nowhere meanwhile). Only the far end
/// can send inside the tunnel, so the goodbye trusts nothing the far end could not do by falling silent.
/// </summary>
public sealed class ArrowProber : IAsyncDisposable
{
    private const byte EchoRequest = 128;
    private const byte EchoReply = 129;

    // A goodbye is an echo request with identifier 0 (probes use 1 to 65535) and this mark.
    private static ReadOnlySpan<byte> GoodbyeMark => "re6stbye"u8;

    private readonly Socket _socket;
    private readonly HostShell _shell;
    private readonly ProbeOptions _options;
    private readonly Action<string> _onDead;
    private readonly Action<string> _onClosed;
    private readonly Action<string> _log;
    private readonly ConcurrentDictionary<int, Target> _byIndex = new();
    private readonly ConcurrentDictionary<string, Target> _byName = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly ushort _identifier = (ushort)Random.Shared.Next(1, 0x10000);
    private readonly Task _sender;
    private readonly Task _receiver;

    /// <summary>Unanswered probes a dead verdict needs: as many as a DeadAfter of silence holds, less one for timing.</summary>
    private readonly int _unansweredForDead;

    private ArrowProber(Socket socket, HostShell shell, ProbeOptions options, Action<string> onDead, Action<string> onClosed, Action<string> log)
    {
        _socket = socket;
        _shell = shell;
        _options = options;
        _onDead = onDead;
        _onClosed = onClosed;
        _log = log;
        _unansweredForDead = Math.Max(1, (int)(options.DeadAfter / options.Interval) - 1);
        _sender = Task.Run(SendLoopAsync);
        _receiver = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Opens the raw ICMPv6 socket in the host's namespace (needs CAP_NET_RAW) and starts probing.</summary>
    /// <param name="onDead">Called once per arrow interface that stops answering (from a background thread).</param>
    /// <param name="onClosed">Called once per arrow interface whose far end said goodbye (from a background thread); such an arrow is not reported dead.</param>
    public static ArrowProber Start(HostShell shell, ProbeOptions options, Action<string> onDead, Action<string> onClosed, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(shell);
        ArgumentNullException.ThrowIfNull(options);
        var socket = NetnsSockets.Create(shell.Netns, () =>
        {
            var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.IcmpV6);
            s.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastLoopback, false);
            s.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
            return s;
        });
        return new ArrowProber(socket, shell, options, onDead, onClosed, log ?? (_ => { }));
    }

    /// <summary>Starts probing an arrow's interface (its index is looked up in the host's namespace).</summary>
    public async Task WatchAsync(string interfaceName, CancellationToken cancellationToken)
    {
        var line = await _shell.RunCheckedAsync("ip", ["-o", "link", "show", "dev", interfaceName], cancellationToken).ConfigureAwait(false);
        var index = int.Parse(line.AsSpan(0, line.IndexOf(':', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
        var target = new Target(interfaceName, index, Stopwatch.GetTimestamp());
        Forget(interfaceName);
        _byIndex[index] = target;
        _byName[interfaceName] = target;
    }

    /// <summary>
    /// Tells the far end, inside the tunnel, that this end is about to remove the arrow (two
    /// goodbyes, in case one is lost). Nothing happens for an interface not probed.
    /// </summary>
    public async Task SayGoodbyeAsync(string interfaceName, CancellationToken cancellationToken)
    {
        if (!_byName.TryGetValue(interfaceName, out var t))
        {
            return;
        }

        var packet = new byte[16];
        packet[0] = EchoRequest;
        GoodbyeMark.CopyTo(packet.AsSpan(8));
        for (var i = 0; i < 2; i++)
        {
            if (!await SendAsync(packet, t.Index, cancellationToken).ConfigureAwait(false))
            {
                // The tunnel is gone already: the far end finds out by its probes.
                return;
            }
        }
    }

    /// <summary>Sends to all nodes on an arrow's interface (the kernel fills in the ICMPv6 checksum on raw sockets); false when the interface is down or gone.</summary>
    private async Task<bool> SendAsync(byte[] packet, int index, CancellationToken cancellationToken)
    {
        try
        {
            await _socket.SendToAsync(packet, SocketFlags.None, new IPEndPoint(AllNodes(index), 0), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Forget(string interfaceName)
    {
        if (_byName.TryRemove(interfaceName, out var old))
        {
            _byIndex.TryRemove(new KeyValuePair<int, Target>(old.Index, old));
        }
    }

    public ProbeReading? Read(string interfaceName)
    {
        if (!_byName.TryGetValue(interfaceName, out var t))
        {
            return null;
        }

        lock (t)
        {
            return new ProbeReading(t.Answered && !t.Dead, t.Answered ? t.Rtt : null, t.Sent, t.Received);
        }
    }

    private async Task SendLoopAsync()
    {
        var packet = new byte[16];
        packet[0] = EchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), _identifier);
        using var timer = new PeriodicTimer(_options.Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                foreach (var t in _byName.Values)
                {
                    if (Check(t, now))
                    {
                        _log($"probe: {t.Name} answered nothing for {Stopwatch.GetElapsedTime(t.Answered ? t.LastReply : t.Added, now).TotalMilliseconds:F0} ms: dead");
                        _onDead(t.Name);
                    }

                    ushort sequence;
                    lock (t)
                    {
                        sequence = (ushort)++t.Sent;
                        t.SentSinceReply++;
                    }

                    BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), sequence);
                    BinaryPrimitives.WriteInt64BigEndian(packet.AsSpan(8), now);
                    // An interface down or going away: the missing answers tell the story.
                    await SendAsync(packet, t.Index, _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    /// <summary>True exactly once, when the arrow has answered nothing for too long.</summary>
    private bool Check(Target t, long now)
    {
        lock (t)
        {
            if (t.Dead)
            {
                return false;
            }

            // Silence counts only over probes really sent: when this process was not scheduled (a
            // busy machine), its own late probes, or replies it has not read yet, must not condemn
            // an arrow that is fine.
            var silent = t.Answered
                ? Stopwatch.GetElapsedTime(t.LastReply, now) > _options.DeadAfter && t.SentSinceReply >= _unansweredForDead
                : Stopwatch.GetElapsedTime(t.Added, now) > _options.SetupGrace;
            t.Dead = silent;
            return silent;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[1500];
        EndPoint any = new IPEndPoint(IPAddress.IPv6Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _log($"probe: receive failed: {e.Message}");
                await Task.Delay(_options.Interval).ConfigureAwait(false);
                continue;
            }

            // Anything received on an arrow's interface came from inside its tunnel: from its far end.
            if (r.ReceivedBytes >= 16 && buffer[0] == EchoRequest && BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(4)) == 0
                && buffer.AsSpan(8, 8).SequenceEqual(GoodbyeMark) && r.RemoteEndPoint is IPEndPoint peer
                && _byIndex.TryGetValue((int)peer.Address.ScopeId, out var closing))
            {
                bool first;
                lock (closing)
                {
                    (first, closing.Dead) = (!closing.Dead, true);
                }

                if (first)
                {
                    _log($"probe: {closing.Name}: its far end said goodbye");
                    _onClosed(closing.Name);
                }

                continue;
            }

            // The answer comes from the far end's link-local address, whose scope is the arrow's interface.
            if (r.ReceivedBytes < 16 || buffer[0] != EchoReply || BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(4)) != _identifier
                || r.RemoteEndPoint is not IPEndPoint from || !_byIndex.TryGetValue((int)from.Address.ScopeId, out var t))
            {
                continue;
            }

            var sentAt = BinaryPrimitives.ReadInt64BigEndian(buffer.AsSpan(8));
            var now = Stopwatch.GetTimestamp();
            lock (t)
            {
                if (sentAt < t.Added || t.Dead)
                {
                    continue;
                }

                t.Received++;
                t.SentSinceReply = 0;
                t.Answered = true;
                t.LastReply = now;
                t.Rtt = Stopwatch.GetElapsedTime(sentAt, now);
            }
        }
    }

    private static IPAddress AllNodes(int index) => new(IPAddress.Parse("ff02::1").GetAddressBytes(), index);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await Task.WhenAll(_sender, _receiver).ConfigureAwait(false);
        _stop.Dispose();
    }

    private sealed class Target(string name, int index, long added)
    {
        public string Name { get; } = name;

        public int Index { get; } = index;

        public long Added { get; } = added;

        public long Sent { get; set; }

        public long Received { get; set; }

        public int SentSinceReply { get; set; }

        public bool Answered { get; set; }

        public bool Dead { get; set; }

        public long LastReply { get; set; }

        public TimeSpan Rtt { get; set; }
    }
}
