namespace Re6st.Core.Arrows;

/// <summary>
/// Exception to the random draw (unreachable peers): a peer whose arrows fail to come up, or die,
/// is left out of this node's draws for a while, so that a dead host does not take arrow slots for
/// a whole setup timeout, draw after draw (seen in the lab: 3 dead hosts of 10 held 26 arrows
/// waiting 20 s each). Bounded: the pause starts at <see cref="First"/>, doubles with each failure
/// in a row up to <see cref="Max"/>, and ends as soon as an arrow to that peer comes up; and a node
/// that has no arrow left ignores it (<see cref="ArrowSelection"/>). The draw stays uniform over
/// every other peer. Time comes in as values; nothing here reads a clock.
/// </summary>
public sealed class PeerBackoff
{
    public static readonly TimeSpan First = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan Max = TimeSpan.FromMinutes(10);

    private readonly Dictionary<string, (int Failures, DateTimeOffset Until)> _peers = new(StringComparer.Ordinal);

    /// <summary>An arrow to <paramref name="peer"/> failed at <paramref name="now"/>; returns how long the peer is left out.</summary>
    public TimeSpan Fail(string peer, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var failures = _peers.TryGetValue(peer, out var known) ? known.Failures + 1 : 1;
        var pause = First;
        for (var i = 1; i < failures && pause < Max; i++)
        {
            pause *= 2;
        }

        pause = pause < Max ? pause : Max;
        _peers[peer] = (failures, now + pause);
        return pause;
    }

    /// <summary>An arrow to <paramref name="peer"/> came up: it is drawn again, and its next failure starts from <see cref="First"/>.</summary>
    public bool Succeed(string peer) => _peers.Remove(peer);

    public bool IsBackedOff(string peer, DateTimeOffset now) => _peers.TryGetValue(peer, out var known) && now < known.Until;

    /// <summary>Peers left out of the draw at <paramref name="now"/>.</summary>
    public IReadOnlyList<string> BackedOff(DateTimeOffset now) => [.. _peers.Where(p => now < p.Value.Until).Select(p => p.Key).Order(StringComparer.Ordinal)];
}
