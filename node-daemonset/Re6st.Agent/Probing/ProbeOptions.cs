namespace Re6st.Agent.Probing;

/// <summary>
/// How arrows are probed. Defaults: a probe every 150 ms, dead after 1 s of silence, so traffic
/// leaves a dead arrow in well under 2 s; a new arrow has 20 s to come up (handshakes, a slow
/// wireguard-go start).
/// </summary>
public sealed record ProbeOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(150);

    public TimeSpan DeadAfter { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan SetupGrace { get; init; } = TimeSpan.FromSeconds(20);
}
