using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Re6st.Lab.Netns;

/// <summary>
/// A continuous ping (20 a second) from one lab host to another, for loss and outage figures: each
/// answered sequence number is recorded with the time of its answer, so the longest run of
/// unanswered ones is the outage, and when it happened is known.
/// </summary>
/// <remarks>
/// Times come from the answers (ping -D), not from the start and the pace: ping's intervals run a
/// little longer than asked, and over minutes the sum drifted by a second or more, enough to put an
/// outage before the fault that caused it.
/// </remarks>
public sealed partial class ContinuousPing : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    private readonly Process _process;
    private readonly Dictionary<int, DateTime> _answered = [];
    private readonly Task _reader;
    private readonly DateTime _started = DateTime.UtcNow;
    private int _sent;
    private DateTime? _stoppedAt;

    private ContinuousPing(Process process, TimeSpan interval)
    {
        _process = process;
        Pace = interval;
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Time between two pings of this one (<see cref="Interval"/> unless given).</summary>
    public TimeSpan Pace { get; }

    /// <summary>How many pings were sent, which were answered, and when each was sent (complete after <see cref="StopAsync"/>).</summary>
    public PingRecord Record()
    {
        lock (_answered)
        {
            var (known, times) = Settled();
            return new PingRecord(known, new HashSet<int>(_answered.Keys), times[..known]);
        }
    }

    /// <summary>
    /// How long before the stop an unanswered ping may still have been on its way: its answer
    /// could not be read, so it counts neither as sent nor as lost. The round trip is a
    /// millisecond or so here; without this, the ping in flight when the stop came was counted
    /// as lost (one per pair now and then: 2 of 1,709 in one hand-over test run, both at the
    /// stop, which failed its 0.1 % bound).
    /// </summary>
    public static readonly TimeSpan InFlight = TimeSpan.FromMilliseconds(250);

    // The pings whose fate is known (all those sent, but the unanswered ones at the end sent
    // within InFlight of the stop: every answered one is among them), and when each ping went.
    private (int Known, DateTime[] Times) Settled()
    {
        var times = SentTimes();
        var known = _sent;
        while (_stoppedAt is { } stopped && known > 0 && !_answered.ContainsKey(known) && times[known - 1] >= stopped - InFlight)
        {
            known--;
        }

        return (known, times);
    }

    // When each ping went (index seq - 1): an answered one at its answer (the round trip is a
    // millisecond here), an unanswered one one pace after the ping before it.
    private DateTime[] SentTimes()
    {
        var times = new DateTime[_sent];
        var last = _started - Pace;
        for (var seq = 1; seq <= _sent; seq++)
        {
            last = times[seq - 1] = _answered.TryGetValue(seq, out var at) ? at : last + Pace;
        }

        return times;
    }

    public static ContinuousPing Start(LabHost from, LabHost to, TimeSpan? interval = null)
    {
        var pace = interval ?? Interval;
        var info = new ProcessStartInfo("ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // -c, not -w: ping -w exits at the first "unreachable", which an outage brings (2 hours at most).
        foreach (var a in new[] { "netns", "exec", from.Namespace, "ping", "-6", "-n", "-D", "-i", pace.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture), "-c", ((int)(TimeSpan.FromHours(2) / pace)).ToString(CultureInfo.InvariantCulture), "-I", from.Ipv6Address, to.Ipv6Address })
        {
            info.ArgumentList.Add(a);
        }

        return new ContinuousPing(Process.Start(info) ?? throw new InvalidOperationException("cannot start ping"), pace);
    }

    /// <summary>Stops the ping (SIGINT, so it prints its summary) and returns what it saw.</summary>
    public async Task<PingFigures> StopAsync()
    {
        _stoppedAt ??= DateTime.UtcNow;
        if (!_process.HasExited)
        {
            await Command.RunAsync("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)], check: false);
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _process.WaitForExitAsync(deadline.Token);
        await _reader.WaitAsync(TimeSpan.FromSeconds(10));
        lock (_answered)
        {
            var (known, times) = Settled();
            var longest = 0;
            var longestEnd = 0;
            var run = 0;
            for (var seq = 1; seq <= known; seq++)
            {
                run = _answered.ContainsKey(seq) ? 0 : run + 1;
                if (run > longest)
                {
                    (longest, longestEnd) = (run, seq);
                }
            }

            // Flowing at the end: most of the last half second's pings answered.
            var tail = Enumerable.Range(Math.Max(1, known - 9), Math.Min(10, known)).Count(_answered.ContainsKey);
            return new PingFigures(known, _answered.Count, longest * Pace)
            {
                FlowingAtEnd = tail >= 8,
                LongestOutageStart = longest > 0 ? times[longestEnd - longest] : null,
            };
        }
    }

    /// <summary>Stops every ping of <paramref name="pings"/>, disposes of them, and returns what each saw, in order.</summary>
    public static async Task<PingFigures[]> StopAllAsync(IReadOnlyCollection<ContinuousPing> pings)
    {
        ArgumentNullException.ThrowIfNull(pings);
        var figures = await Task.WhenAll(pings.Select(p => p.StopAsync()));
        foreach (var ping in pings)
        {
            await ping.DisposeAsync();
        }

        return figures;
    }

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            var reply = Reply().Match(line);
            var summary = Summary().Match(line);
            lock (_answered)
            {
                if (reply.Success)
                {
                    _answered[int.Parse(reply.Groups[2].Value, CultureInfo.InvariantCulture)] =
                        DateTime.UnixEpoch.AddTicks((long)(decimal.Parse(reply.Groups[1].Value, CultureInfo.InvariantCulture) * TimeSpan.TicksPerSecond));
                }
                else if (summary.Success)
                {
                    _sent = int.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    // "[1733356800.123456] 64 bytes from fd00::2: icmp_seq=12 ttl=64 time=0.051 ms"
    [GeneratedRegex(@"^\[(\d+\.\d+)\] .*icmp_seq=(\d+) ")]
    private static partial Regex Reply();

    [GeneratedRegex(@"(\d+) packets transmitted")]
    private static partial Regex Summary();
}

/// <summary>What a ping saw: how many it sent, which sequence numbers were answered, and when each was sent (index seq - 1, UTC).</summary>
public sealed record PingRecord(int Sent, IReadOnlySet<int> Answered, IReadOnlyList<DateTime> SentAt);

/// <summary>Packets sent and answered, and the longest stretch without an answer.</summary>
public sealed record PingFigures(int Sent, int Received, TimeSpan LongestOutage)
{
    public int Lost => Sent - Received;

    /// <summary>Whether the last pings (most of the final half second's) were answered.</summary>
    public bool FlowingAtEnd { get; init; }

    /// <summary>When the longest outage began (UTC, from the pings' pace), if there was one.</summary>
    public DateTime? LongestOutageStart { get; init; }

    public override string ToString() =>
        $"{Lost} lost of {Sent}, longest outage {LongestOutage.TotalSeconds:F2} s{(LongestOutageStart is { } at ? $" from {at:HH:mm:ss.f} UTC" : "")}";
}
