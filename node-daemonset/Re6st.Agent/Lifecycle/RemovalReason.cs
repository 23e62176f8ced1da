using Re6st.Core.Arrows;

namespace Re6st.Agent.Lifecycle;

/// <summary>
/// Every way an arrow of this host ends, in one place: the principle, the exceptions that end an
/// arrow, and the failures. Each has the name its metrics (<c>re6st_arrows_destroyed_total{reason}</c>),
/// traces and logs carry, and <see cref="RemovalReasons.SaysGoodbye"/> says whether the far end is
/// told first.
/// </summary>
public enum RemovalReason
{
    /// <summary>Principle (life requires destruction): drawn at random while unused (drained a moment first as a precaution, since the far end's routes are a tick old).</summary>
    Random,

    /// <summary>Exception (in use): drawn while routes used it, drained through Babel until none did.</summary>
    Drained,

    /// <summary>The in-use exception's bound: routes still used it at maxDrain.</summary>
    ForcedAfterMaxDrain,

    /// <summary>Exception (tunnel technology): the rules no longer allow its technology between its ends; drained, then removed.</summary>
    Technology,

    /// <summary>It stopped answering its probes, or never came up.</summary>
    Dead,

    /// <summary>Babel never heard its far end authenticate (no shared key, or a rogue speaker).</summary>
    Unauthenticated,

    /// <summary>Its far end removed it and said goodbye inside the tunnel.</summary>
    ClosedByPeer,

    /// <summary>Its far end is no longer a member of a sub-mesh this host shares.</summary>
    PeerLeft,

    /// <summary>This host's plan changed and the arrow's sub-mesh is no longer one of its own.</summary>
    Replanned,

    /// <summary>Cut at once on purpose, without a drain (the tests' and drills' abrupt destruction).</summary>
    Cut,

    /// <summary>Left by a previous run of this agent and not taken over.</summary>
    AgentRestart,
}

public static class RemovalReasons
{
    /// <summary>The name metrics, traces and logs give the reason.</summary>
    public static string Name(this RemovalReason reason) => reason switch
    {
        RemovalReason.Random => "random",
        RemovalReason.Drained => "drained",
        RemovalReason.ForcedAfterMaxDrain => "forced-after-max-drain",
        RemovalReason.Technology => "technology",
        RemovalReason.Dead => "dead",
        RemovalReason.Unauthenticated => "unauthenticated",
        RemovalReason.ClosedByPeer => "closed-by-peer",
        RemovalReason.PeerLeft => "peer-left",
        RemovalReason.Replanned => "replanned",
        RemovalReason.Cut => "cut",
        RemovalReason.AgentRestart => "agent-restart",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    /// <summary>
    /// The policy's own destructions, the principle's and the in-use exception's, which tell that
    /// life requires destruction is at work (<c>re6st_last_policy_destruction_timestamp_seconds</c>).
    /// </summary>
    public static bool IsThePolicys(this RemovalReason reason) =>
        reason is RemovalReason.Random or RemovalReason.Drained or RemovalReason.ForcedAfterMaxDrain;

    /// <summary>
    /// A removal on purpose tells the far end first, so its routes over the arrow leave before the
    /// tunnel does. A dead arrow cannot carry the goodbye, a cut is a failure on purpose, and a far
    /// end that closed the arrow knows.
    /// </summary>
    public static bool SaysGoodbye(this RemovalReason reason) =>
        reason is not (RemovalReason.Dead or RemovalReason.Cut or RemovalReason.ClosedByPeer);

    /// <summary>
    /// The end of a drain the core concluded (<see cref="DecisionReason.Drained"/> or
    /// <see cref="DecisionReason.ForcedAfterMaxDrain"/>): what the drain was for, when it was not the
    /// in-use exception's own (a precaution for a random destruction, a technology the rules deny).
    /// </summary>
    public static RemovalReason AfterDrain(DecisionReason decision, RemovalReason? drainedFor) =>
        decision == DecisionReason.ForcedAfterMaxDrain ? RemovalReason.ForcedAfterMaxDrain : drainedFor ?? RemovalReason.Drained;
}
