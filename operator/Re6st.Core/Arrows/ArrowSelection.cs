using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Core.Arrows;

/// <summary>
/// Principle: a node's arrows go to peers drawn uniformly at random among the members of its mesh.
/// Each exception is a named step below, with what bounds it.
/// </summary>
public static class ArrowSelection
{
    /// <param name="members">The mesh as this node sees it (including itself).</param>
    /// <param name="self">This node's index in <paramref name="members"/>.</param>
    /// <param name="connected">Members already joined to this node by an arrow, in either direction.</param>
    /// <param name="outgoing">Arrows this node initiated that are not draining.</param>
    /// <param name="backedOff">Members this node cannot reach for now (<see cref="PeerBackoff"/>).</param>
    /// <param name="meshSize">
    /// How many members the mesh has by its plan, those this node cannot draw yet included (they
    /// have not published how to reach them); null: <paramref name="members"/>' count.
    /// </param>
    public static List<ArrowChoice> Select(
        MemberSet members,
        int self,
        ReadOnlySpan<int> connected,
        int outgoing,
        RandomizationPolicy policy,
        IRandomSource random,
        ReadOnlySpan<int> backedOff = default,
        int? meshSize = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(self);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(self, members.Count);

        // Exception (unreachable peers): members whose arrows just failed to come up or died are
        // not drawn, by any step below, until their backoff ends (PeerBackoff: 30 s doubling to
        // 10 min, over as soon as an arrow to them comes up). Bounded the other way too: a node
        // with no arrow at all draws among everyone, for when all its arrows died the fault was
        // likely its own (its underlay), not its peers'.
        var draw = new Draw(members, self, connected, connected.IsEmpty ? default : backedOff, policy, random);

        // Exception (small mesh): with this few members a random draw can leave a node with a
        // single path, so every pair is connected. Bounded by policy.SmallMeshSize members of the
        // mesh as planned, not of the part of it this node sees: at start-up a host that had seen
        // 3 of 10 members publish connected to all of them (9 such arrows in a 10-host lab).
        if (Math.Max(members.Count, meshSize ?? 0) <= policy.SmallMeshSize)
        {
            draw.TakeAllEligible(SelectionReason.SmallMesh);
            return draw.Chosen;
        }

        var need = policy.ArrowsPerNode - outgoing;
        if (need <= 0)
        {
            return draw.Chosen;
        }

        // Exception (bootstrap): a node with no arrow at all first reaches the peers named for it,
        // so a new node can join. Bounded by the named peers and by the node's arrow budget.
        if (connected.IsEmpty && outgoing == 0)
        {
            need -= draw.TakeNamed(policy.BootstrapPeers, need, SelectionReason.Bootstrap);
        }

        // Exception (preferred subset): a preferredShare of the draws come from the preferred
        // subset (e.g. well-known datacenters). Bounded by that share; the rest stays uniform.
        if (policy.Preferred is { } preferred && need > 0)
        {
            var fromPreferred = random.RoundRandomly(need * Math.Min(preferred.Share, 1));
            need -= draw.TakeUniform(members.Matching(preferred.Selector), fromPreferred, SelectionReason.Preferred);
        }

        // Principle: the rest uniformly at random among all eligible members.
        draw.TakeUniform(null, need, SelectionReason.Random);
        return draw.Chosen;
    }

    /// <summary>
    /// One node's draw. Eligibility also applies the tunnel-technology exception: a peer with which
    /// no technology is left by the rules (e.g. "no OpenVPN for filtered hosts") cannot be chosen.
    /// </summary>
    private ref struct Draw
    {
        private readonly MemberSet _members;
        private readonly int _self;
        private readonly ReadOnlySpan<int> _connected;
        private readonly ReadOnlySpan<int> _backedOff;
        private readonly IRandomSource _random;
        private readonly TunnelTechnology[] _technologies;

        public Draw(MemberSet members, int self, ReadOnlySpan<int> connected, ReadOnlySpan<int> backedOff, RandomizationPolicy policy, IRandomSource random)
        {
            _members = members;
            _self = self;
            _connected = connected;
            _backedOff = backedOff;
            _random = random;
            _technologies = members.EndpointTechnologies(policy.TechnologyRules);
            Chosen = [];
        }

        public List<ArrowChoice> Chosen { get; }

        public readonly void TakeAllEligible(SelectionReason reason)
        {
            for (var i = 0; i < _members.Count; i++)
            {
                TryTake(i, reason);
            }
        }

        public readonly int TakeNamed(IReadOnlyList<string> names, int max, SelectionReason reason)
        {
            var taken = 0;
            foreach (var name in names)
            {
                if (taken >= max)
                {
                    break;
                }

                var i = _members.IndexOf(name);
                if (i >= 0 && TryTake(i, reason))
                {
                    taken++;
                }
            }

            return taken;
        }

        /// <summary>
        /// Draws up to <paramref name="count"/> distinct eligible members uniformly from the pool
        /// (all members when <paramref name="pool"/> is null). Rejection sampling keeps it O(count)
        /// in large meshes; when rejections pile up it falls back to an explicit list, which is
        /// still uniform over the members that remain.
        /// </summary>
        public readonly int TakeUniform(int[]? pool, int count, SelectionReason reason)
        {
            var size = pool?.Length ?? _members.Count;
            if (count <= 0 || size == 0)
            {
                return 0;
            }

            var taken = 0;
            var attempts = (16 * count) + 64;
            while (taken < count && attempts-- > 0)
            {
                var j = _random.NextInt(size);
                if (TryTake(pool is null ? j : pool[j], reason))
                {
                    taken++;
                }
            }

            if (taken < count)
            {
                var rest = new List<int>();
                for (var j = 0; j < size; j++)
                {
                    var i = pool is null ? j : pool[j];
                    if (IsEligible(i))
                    {
                        rest.Add(i);
                    }
                }

                var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rest);
                _random.Shuffle(span);
                for (var k = 0; k < span.Length && taken < count; k++)
                {
                    TryTake(span[k], reason);
                    taken++;
                }
            }

            return taken;
        }

        private readonly bool TryTake(int i, SelectionReason reason)
        {
            if (!IsEligible(i))
            {
                return false;
            }

            var common = _technologies[_self] & _technologies[i];
            Chosen.Add(new ArrowChoice(i, PickTechnology(common), reason));
            return true;
        }

        private readonly bool IsEligible(int i)
        {
            if (i == _self || (_technologies[_self] & _technologies[i]) == TunnelTechnology.None || _connected.Contains(i) || _backedOff.Contains(i))
            {
                return false;
            }

            foreach (var c in Chosen)
            {
                if (c.Peer == i)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Among the technologies both ends may use, one at random (no technology is "best").</summary>
        private readonly TunnelTechnology PickTechnology(TunnelTechnology common)
        {
            var options = System.Numerics.BitOperations.PopCount((uint)common);
            var pick = options == 1 ? 0 : _random.NextInt(options);
            for (var bit = 1; bit <= (int)TunnelTechnology.All; bit <<= 1)
            {
                if (((int)common & bit) != 0 && pick-- == 0)
                {
                    return (TunnelTechnology)bit;
                }
            }

            return TunnelTechnology.None;
        }
    }
}
