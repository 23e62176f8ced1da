using Re6st.Agent.Babel;
using Re6st.Agent.Membership;
using Re6st.Core.Addressing;

namespace Re6st.Agent.Lifecycle;

/// <summary>
/// Exception for an agent's restart (a rolling upgrade of the DaemonSet, a deleted pod): the host
/// is handed over to the agent's next run instead of being torn down. Everything in the agent's pod
/// dies with it, babeld included, while kernel WireGuard tunnels, the routes babeld installed and
/// the host's announcements stay in the host's kernel. Without babeld the host would fall out of
/// Babel within two hellos, for as long as the next pod takes to start (about 20 s). So:
/// <list type="bullet">
/// <item>The leaving agent removes the arrows whose tunnels live in its own processes (OpenVPN,
/// wireguard-go), publishes <see cref="PeerStatus.HandOverUntil"/>, waits for its peers to stand in,
/// and kills babeld without a retraction.</item>
/// <item>A peer with an arrow to it <b>stands in</b>: it announces the host's own prefixes (as the
/// operator allocated them, never as the host claims them) over that arrow, with a metric above any
/// real route's, so traffic for the host still finds it. This is the one case where a host
/// announces another's prefixes, bounded by <see cref="MaxLength"/>.</item>
/// <item>Peers <b>hold</b> their arrows to it: no destruction, no drain's end, no "unauthenticated"
/// verdict and no new arrow while it hands over (life requires destruction, but a host that cannot
/// answer cannot be drained), and no "unauthenticated" verdict for the authentication grace after
/// (its new babeld and theirs go through Babel's authentication challenge again). A dead arrow
/// (probes unanswered) still goes.</item>
/// <item>The next run adopts the tunnels, starts its babeld only once the peers' babelds have
/// forgotten the last one (<see cref="PeersForget"/>), keeps the routes the last babeld left until
/// its own babeld has its neighbours back, and only then stops asking for stand-ins.</item>
/// </list>
/// Measured in the real-node lab: see docs/benchmarks.md (loss while the agents roll).
/// </summary>
public static class HandOver
{
    /// <summary>The longest a host may ask its peers to stand in and hold, counted from now: a host cannot make it last.</summary>
    public static readonly TimeSpan MaxLength = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long the peers' babelds remember a silent neighbour: babeld 1.12 keeps a neighbour, and
    /// the routes it heard from it, until its reach bitmap (16 hellos) runs empty, and on a tunnel
    /// (not a wired link) its cost climbs only gradually meanwhile. A new babeld that says hello on
    /// the same link-local address sooner revives the routes its predecessor announced while the
    /// new one, knowing nothing yet, takes the peers' own routes: in the real-node lab a peer
    /// still routed a third host's prefix through the host 5.5 s after its babeld was killed, the
    /// next pod's babeld started 4.5 s after the kill and routed that prefix back through the peer,
    /// and the two looped it for 0.8 s. 20 hellos: the 16 and a margin.
    /// </summary>
    public static TimeSpan PeersForget(TimeSpan hello) => 20 * hello;

    /// <summary>
    /// How long the next run waits before it starts babeld, the previous one having been killed at
    /// <paramref name="previousKilled"/> (null: not known, as after a crash, when no peer stands in
    /// and waiting would only lengthen the outage). Peers stand in meanwhile, and the routes the
    /// previous babeld left carry the host's own packets and those that cross it.
    /// </summary>
    public static TimeSpan WaitBeforeBabeld(DateTimeOffset? previousKilled, DateTimeOffset now, TimeSpan hello) =>
        previousKilled is { } killed && killed <= now && killed + PeersForget(hello) > now ? killed + PeersForget(hello) - now : TimeSpan.Zero;

    /// <summary>Whether a peer that published <paramref name="status"/> is being handed over at <paramref name="now"/>.</summary>
    public static bool IsHandingOver(PeerStatus? status, DateTimeOffset now) =>
        status?.HandOverUntil is { } until && until > now && until - now <= MaxLength;

    /// <summary>
    /// What this host announces for its peers now, and what it must remember for the next tick.
    /// A peer that hands over gets its own prefixes announced over one arrow between the two (the
    /// first by name) that its status still lists. Once it no longer hands over, the stand-in stays
    /// until the best route this host's babeld heard for each prefix is the peer's next run's own:
    /// under a router-id other than those heard when the stand-in began (babeld takes a new one at
    /// each start), and below the stand-in metric. Stopping earlier leaves the hosts that stood in
    /// with each other's fading announcements to choose from (babeld 1.12.1 sends no retraction
    /// when a stand-in goes), and they route the peer's prefixes to one another: seen in the lab as
    /// a 2.4 s loop when no new announcement was heard yet, and, on real nodes, as a 1.7 s loop
    /// between two hosts that had each heard the peer over their own arrow but still preferred the
    /// other's stand-in (0.6 s of lost pings in one rolling upgrade). Once the peer's own route is
    /// the best, the stand-ins' stale announcements lose to it wherever they linger.
    /// <see cref="MaxLength"/> bounds it all.
    /// </summary>
    /// <param name="babel">This host's babeld: the routes it heard for the peers' prefixes.</param>
    /// <param name="memory">What the previous tick returned (empty at start).</param>
    public static (IReadOnlyList<StandIn> StandIns, IReadOnlyDictionary<string, StandInMemory> Memory) StandIns(
        string self,
        IEnumerable<PeerView> peers,
        IEnumerable<ArrowRecord> arrows,
        BabelState babel,
        IReadOnlyDictionary<string, StandInMemory> memory,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(arrows);
        ArgumentNullException.ThrowIfNull(babel);
        ArgumentNullException.ThrowIfNull(memory);
        var all = arrows.ToList();
        var standIns = new List<StandIn>();
        var remembered = new Dictionary<string, StandInMemory>(StringComparer.Ordinal);
        foreach (var peer in peers)
        {
            var name = peer.Node.Name;
            var toPeer = all.Where(a => a.Peer == name && a.Condemned is null).ToList();
            var handsOver = IsHandingOver(peer.Status, now);
            if (!memory.TryGetValue(name, out var known))
            {
                if (!handsOver)
                {
                    continue;
                }

                var heard = babel.Routes.Values.Where(r => peer.Prefixes.Contains(r.Prefix)).Select(r => r.RouterId);
                known = new StandInMemory(now, heard.ToHashSet(StringComparer.Ordinal));
            }

            var over = toPeer
                .Where(a => peer.Status is { } status && Lists(status, self, a))
                .OrderBy(a => a.Interface, StringComparer.Ordinal)
                .FirstOrDefault();
            var back = !handsOver && peer.Prefixes.All(p => BestHeard(babel, p) is { } best &&
                best.Metric < BabelConfigWriter.StandInMetric && !known.RouterIdsBefore.Contains(best.RouterId));
            if (back || now - known.Since > MaxLength || over is null)
            {
                continue;
            }

            remembered[name] = known;
            standIns.AddRange(peer.Prefixes.Select(p => new StandIn(name, p, over.Interface)));
        }

        return (standIns, remembered);
    }

    /// <summary>The route babeld would choose for <paramref name="prefix"/> among those it heard (the lowest finite metric), were this host not announcing it.</summary>
    private static BabelRoute? BestHeard(BabelState babel, IpPrefix prefix) =>
        babel.Routes.Values.Where(r => r.Prefix == prefix && r.Metric < BabelRoute.Infinity).MinBy(r => r.Metric);

    /// <summary>Whether the far end still has its end of <paramref name="arrow"/> (so the tunnel carries packets to it).</summary>
    private static bool Lists(PeerStatus status, string self, ArrowRecord arrow) => arrow.Initiated
        ? status.Accepted.Any(a => a.Peer == self && a.SubMesh == arrow.SubMesh)
        : status.Arrows.Any(a => a.Id == arrow.Id);
}

/// <summary>When this host began to stand in for a peer, and the router-ids it had heard announce the peer's prefixes then.</summary>
public sealed record StandInMemory(DateTimeOffset Since, IReadOnlySet<string> RouterIdsBefore);

/// <summary>A prefix of <paramref name="Peer"/> this host announces over the arrow on <paramref name="Interface"/>.</summary>
public sealed record StandIn(string Peer, IpPrefix Prefix, string Interface);
