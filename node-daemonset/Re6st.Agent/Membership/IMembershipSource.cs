namespace Re6st.Agent.Membership;

/// <summary>
/// Where a host learns its plan and its peers, and publishes its own status. The lab and the tests
/// use <see cref="DirectoryMembershipSource"/>; in a cluster the agent reads MeshNode objects
/// through <see cref="MeshNodeMembershipSource"/>.
/// </summary>
public interface IMembershipSource
{
    Task<AgentView?> ReadAsync(CancellationToken cancellationToken);

    Task PublishAsync(PeerStatus status, CancellationToken cancellationToken);

    /// <summary>Values peers published that <see cref="PeerInput"/> refused, so far (each counted once per version of the peer's status).</summary>
    long RejectedInputs => 0;
}
