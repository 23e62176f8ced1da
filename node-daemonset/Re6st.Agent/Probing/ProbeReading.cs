namespace Re6st.Agent.Probing;

/// <summary>What the probes of one arrow show: whether it answers, and the last round-trip time inside the tunnel.</summary>
public sealed record ProbeReading(bool Up, TimeSpan? Rtt, long Sent, long Received);
