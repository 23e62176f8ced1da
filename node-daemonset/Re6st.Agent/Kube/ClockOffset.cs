namespace Re6st.Agent.Kube;

/// <summary>
/// How far this host's clock is from the API server's, read from the Date header of the server's
/// answers: server time minus this host's, in whole seconds. The header counts whole seconds
/// (its second began up to 1 s before the server wrote it), and the answer was written somewhere
/// within the request's round trip, so one reading is good to about half a second plus half the
/// round trip; answers slower than 2 s are not used. The figure published moves only when a reading
/// is 1.5 s or more away from it, so a status does not flip between two values on noise.
/// </summary>
public sealed class ClockOffset
{
    private static readonly TimeSpan SlowestUsable = TimeSpan.FromSeconds(2);
    private readonly Lock _lock = new();
    private int? _seconds;

    /// <summary>The offset in whole seconds (positive: this host's clock is behind the server's); null before a reading.</summary>
    public int? Seconds
    {
        get
        {
            lock (_lock)
            {
                return _seconds;
            }
        }
    }

    /// <param name="sent">This host's time when the request left.</param>
    /// <param name="received">This host's time when the answer's headers came.</param>
    /// <param name="serverDate">The answer's Date header.</param>
    public void Observe(DateTimeOffset sent, DateTimeOffset received, DateTimeOffset? serverDate)
    {
        var roundTrip = received - sent;
        if (serverDate is not { } date || roundTrip < TimeSpan.Zero || roundTrip > SlowestUsable)
        {
            return;
        }

        var offset = (date + TimeSpan.FromSeconds(0.5) - (sent + (roundTrip / 2))).TotalSeconds;
        lock (_lock)
        {
            if (_seconds is not { } published || Math.Abs(offset - published) >= 1.5)
            {
                _seconds = (int)Math.Round(offset, MidpointRounding.AwayFromZero);
            }
        }
    }
}
