using Re6st.Core.Arrows;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Core.Tests;

public sealed class ArrowSelectionStatisticsTests
{
    private const int Members = 200;

    private static readonly RandomizationPolicy Policy = RandomizationPolicy.Default;

    [Theory]
    [InlineData(0)]
    [InlineData(117)]
    [InlineData(199)]
    public void Select_FreshNodeInLargeMesh_ChoosesEveryPeerEquallyOften(int self)
    {
        const int Trials = 20_000;
        var mesh = Mesh(Members);
        var counts = new long[Members];
        for (var seed = 0; seed < Trials; seed++)
        {
            var choices = ArrowSelection.Select(mesh, self, [], 0, Policy, new Xoshiro256StarStar((ulong)seed));
            Assert.Equal(Policy.ArrowsPerNode, choices.Count);
            foreach (var c in choices)
            {
                Assert.Equal(SelectionReason.Random, c.Reason);
                counts[c.Peer]++;
            }
        }

        Assert.Equal(0, counts[self]);
        var peers = counts.Where((_, i) => i != self).ToArray();
        Statistics.AssertUniformSubsets(peers, Trials, Policy.ArrowsPerNode, $"peers of node {self}");
    }

    [Fact]
    public void Select_MostPeersAlreadyConnected_ChoosesUniformlyAmongTheOthers()
    {
        // 19 peers left for 10 arrows: rejection sampling gives up often, so the fallback path is used too.
        const int Trials = 20_000;
        var mesh = Mesh(Members);
        var connected = Enumerable.Range(1, 180).ToArray();
        var counts = new long[Members];
        for (var seed = 0; seed < Trials; seed++)
        {
            var choices = ArrowSelection.Select(mesh, 0, connected, 0, Policy, Xoshiro256StarStar.ForStream(7, (ulong)seed));
            Assert.Equal(Policy.ArrowsPerNode, choices.Count);
            foreach (var c in choices)
            {
                counts[c.Peer]++;
            }
        }

        Assert.All(counts.Take(181), c => Assert.Equal(0, c));
        Statistics.AssertUniformSubsets(counts.AsSpan(181), Trials, Policy.ArrowsPerNode, "peers left");
    }

    [Fact]
    public void Select_BackedOffPeers_AreNeverDrawn_AndTheOthersStayUniform()
    {
        const int Trials = 20_000;
        var mesh = Mesh(Members);
        var backedOff = Enumerable.Range(1, 60).ToArray();
        var counts = new long[Members];
        for (var seed = 0; seed < Trials; seed++)
        {
            var choices = ArrowSelection.Select(mesh, 0, [199], 1, Policy, Xoshiro256StarStar.ForStream(11, (ulong)seed), backedOff);
            Assert.Equal(Policy.ArrowsPerNode - 1, choices.Count);
            foreach (var c in choices)
            {
                counts[c.Peer]++;
            }
        }

        Assert.All(counts.Take(61), c => Assert.Equal(0, c));
        Assert.Equal(0, counts[199]);
        Statistics.AssertUniformSubsets(counts.AsSpan(61, 138), Trials, Policy.ArrowsPerNode - 1, "peers not backed off");
    }

    [Fact]
    public void Select_NodeWithNoArrowLeft_DrawsAmongEveryoneIncludingBackedOffPeers()
    {
        // All its arrows died: the fault was likely its own underlay, and it must reach someone.
        var choices = ArrowSelection.Select(Mesh(4), 0, [], 0, Policy with { SmallMeshSize = 0, ArrowsPerNode = 3 }, new Xoshiro256StarStar(3), [1, 2, 3]);
        Assert.Equal([1, 2, 3], choices.Select(c => c.Peer).Order());
    }

    [Fact]
    public void Select_BackedOffPeers_AreLeftOutOfTheSmallMeshException_ButNotOfABootstrap()
    {
        var small = ArrowSelection.Select(Mesh(5), 0, [4], 0, Policy, new Xoshiro256StarStar(3), [2]);
        Assert.Equal([1, 3], small.Select(c => c.Peer).Order());

        // Bootstrap applies to a node with no arrow, which ignores the backoff: it reaches its named peers.
        var policy = Policy with { BootstrapPeers = ["n5", "n6"] };
        var fresh = ArrowSelection.Select(Mesh(Members), 0, [], 0, policy, new Xoshiro256StarStar(3), [5]);
        Assert.Contains(fresh, c => c.Peer == 5 && c.Reason == SelectionReason.Bootstrap);
    }

    [Fact]
    public void Select_PreferredSubset_GetsItsShareAndIsUniformWithin()
    {
        const int Trials = 20_000;
        var mesh = MeshWithCore(out var core);
        var policy = Policy with { Preferred = new PreferredSubset(LabelSelector.MatchLabels(("tier", "core")), 0.3) };
        var counts = new long[core.Length];
        for (var seed = 0; seed < Trials; seed++)
        {
            var choices = ArrowSelection.Select(mesh, 0, [], 0, policy, Xoshiro256StarStar.ForStream(11, (ulong)seed));
            Assert.Equal(policy.ArrowsPerNode, choices.Count);
            var preferred = choices.Where(c => c.Reason == SelectionReason.Preferred).ToList();

            // 0.3 of 10 draws is exactly 3: random rounding has nothing to round.
            Assert.Equal(3, preferred.Count);
            foreach (var c in preferred)
            {
                var k = Array.IndexOf(core, c.Peer);
                Assert.True(k >= 0, $"peer {c.Peer} was chosen as preferred but is not in the subset");
                counts[k]++;
            }

            Assert.All(choices.Where(c => c.Reason != SelectionReason.Preferred), c => Assert.Equal(SelectionReason.Random, c.Reason));
        }

        Statistics.AssertUniformSubsets(counts, Trials, 3, "preferred peers");
    }

    [Fact]
    public void Select_FractionalPreferredShare_IsRoundedRandomlyToTheExactShare()
    {
        // 0.25 of 10 draws: 2 or 3 preferred arrows, 3 with probability 0.5, so the mean share is exactly 0.25.
        const int Trials = 20_000;
        var mesh = MeshWithCore(out _);
        var policy = Policy with { Preferred = new PreferredSubset(LabelSelector.MatchLabels(("tier", "core")), 0.25) };
        var three = 0L;
        for (var seed = 0; seed < Trials; seed++)
        {
            var choices = ArrowSelection.Select(mesh, 0, [], 0, policy, Xoshiro256StarStar.ForStream(13, (ulong)seed));
            var preferred = choices.Count(c => c.Reason == SelectionReason.Preferred);
            Assert.InRange(preferred, 2, 3);
            Assert.Equal(policy.ArrowsPerNode, choices.Count);
            three += preferred == 3 ? 1 : 0;
        }

        Statistics.AssertProportion(three, Trials, 0.5, "draws rounded up to 3 preferred arrows");
    }

    [Fact]
    public void Select_OpenVpnDeniedForFilteredNodes_NoOpenVpnArrowTouchesAFilteredNode()
    {
        var nodes = Enumerable.Range(0, Members).Select(TechnologyNode).ToArray();
        var mesh = new MemberSet(nodes);
        var policy = Policy with { TechnologyRules = [new TechnologyRule(TunnelTechnology.OpenVpn, LabelSelector.MatchLabels(("filtered", "yes")))] };
        var bothFree = 0L;
        var bothFreeOpenVpn = 0L;
        for (var self = 0; self < Members; self++)
        {
            for (var seed = 0; seed < 40; seed++)
            {
                var choices = ArrowSelection.Select(mesh, self, [], 0, policy, Xoshiro256StarStar.ForStream(17, (ulong)self, (ulong)seed));
                if (IsFilteredOpenVpnOnly(self))
                {
                    Assert.Empty(choices);
                    continue;
                }

                Assert.Equal(policy.ArrowsPerNode, choices.Count);
                foreach (var c in choices)
                {
                    Assert.False(IsFilteredOpenVpnOnly(c.Peer), $"node {c.Peer} can use no technology but was chosen by {self}");
                    Assert.True(c.Technology is TunnelTechnology.WireGuard or TunnelTechnology.OpenVpn, $"{c.Technology} is not one technology");
                    Assert.True(nodes[self].Technologies.HasFlag(c.Technology) && nodes[c.Peer].Technologies.HasFlag(c.Technology));
                    if (c.Technology == TunnelTechnology.OpenVpn)
                    {
                        Assert.False(IsFiltered(self) || IsFiltered(c.Peer), $"OpenVPN arrow {self} -> {c.Peer} has a filtered end");
                    }

                    if (!IsFiltered(self) && !IsFiltered(c.Peer) && nodes[self].Technologies == TunnelTechnology.All && nodes[c.Peer].Technologies == TunnelTechnology.All)
                    {
                        bothFree++;
                        bothFreeOpenVpn += c.Technology == TunnelTechnology.OpenVpn ? 1 : 0;
                    }
                }
            }
        }

        // Between two unrestricted ends neither technology is preferred.
        Statistics.AssertProportion(bothFreeOpenVpn, bothFree, 0.5, "OpenVPN arrows between unrestricted nodes");
    }

    [Fact]
    public void Select_NodeWithoutArrows_TakesBootstrapPeersFirst()
    {
        var policy = Policy with { BootstrapPeers = ["n5", "n6", "n7"] };
        for (var seed = 0UL; seed < 200; seed++)
        {
            var choices = ArrowSelection.Select(Mesh(Members), 0, [], 0, policy, new Xoshiro256StarStar(seed));
            Assert.Equal(policy.ArrowsPerNode, choices.Count);
            Assert.Equal([5, 6, 7], choices.Take(3).Select(c => c.Peer));
            Assert.All(choices.Take(3), c => Assert.Equal(SelectionReason.Bootstrap, c.Reason));
            Assert.All(choices.Skip(3), c => Assert.Equal(SelectionReason.Random, c.Reason));
        }
    }

    [Fact]
    public void Select_BootstrapPeersBeyondTheNeed_AreCappedByTheNeed()
    {
        var policy = Policy with { ArrowsPerNode = 2, BootstrapPeers = ["n5", "n6", "n7"] };
        var choices = ArrowSelection.Select(Mesh(Members), 0, [], 0, policy, new Xoshiro256StarStar(1));
        Assert.Equal([new ArrowChoice(5, choices[0].Technology, SelectionReason.Bootstrap), new ArrowChoice(6, choices[1].Technology, SelectionReason.Bootstrap)], choices);
    }

    [Fact]
    public void Select_BootstrapNamesSelfOrUnknownNodes_SkipsThem()
    {
        var policy = Policy with { BootstrapPeers = ["n0", "ghost", "n9"] };
        var choices = ArrowSelection.Select(Mesh(Members), 0, [], 0, policy, new Xoshiro256StarStar(3));
        Assert.Equal(policy.ArrowsPerNode, choices.Count);
        Assert.Equal(new ArrowChoice(9, choices[0].Technology, SelectionReason.Bootstrap), choices[0]);
        Assert.Single(choices, c => c.Reason == SelectionReason.Bootstrap);
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 3)]
    public void Select_NodeThatAlreadyHasArrows_UsesNoBootstrapPeer(bool hasPeer, int outgoing)
    {
        var policy = Policy with { BootstrapPeers = ["n5", "n6", "n7"] };
        int[] connected = hasPeer ? [42] : [];
        var bootstrapped = 0;
        for (var seed = 0UL; seed < 500; seed++)
        {
            var choices = ArrowSelection.Select(Mesh(Members), 0, connected, outgoing, policy, new Xoshiro256StarStar(seed));
            Assert.Equal(policy.ArrowsPerNode - outgoing, choices.Count);
            bootstrapped += choices.Count(c => c.Reason == SelectionReason.Bootstrap);
        }

        Assert.Equal(0, bootstrapped);
    }

    [Fact]
    public void Select_SmallMesh_ConnectsToEveryMember()
    {
        var policy = Policy with { ArrowsPerNode = 3 };
        var choices = ArrowSelection.Select(Mesh(8), 2, [], 0, policy, new Xoshiro256StarStar(5));
        Assert.Equal([0, 1, 3, 4, 5, 6, 7], choices.Select(c => c.Peer));
        Assert.All(choices, c => Assert.Equal(SelectionReason.SmallMesh, c.Reason));
    }

    [Fact]
    public void Select_SmallMeshWithSomeArrows_ConnectsToEveryMemberNotYetConnected()
    {
        var choices = ArrowSelection.Select(Mesh(8), 0, [1, 3], 2, Policy, new Xoshiro256StarStar(5));
        Assert.Equal([2, 4, 5, 6, 7], choices.Select(c => c.Peer));
    }

    [Fact]
    public void Select_MeshJustAboveSmallMeshSize_DrawsAtRandom()
    {
        var policy = Policy with { ArrowsPerNode = 3 };
        var choices = ArrowSelection.Select(Mesh(policy.SmallMeshSize + 1), 0, [], 0, policy, new Xoshiro256StarStar(5));
        Assert.Equal(3, choices.Count);
        Assert.All(choices, c => Assert.Equal(SelectionReason.Random, c.Reason));
    }

    [Fact]
    public void Select_FewMembersSeenOfABigMesh_IsNoSmallMesh_WhileASmallMeshIs()
    {
        // At start-up a host sees the members that have published so far: 3 of a planned 10.
        var policy = Policy with { ArrowsPerNode = 2, SmallMeshSize = 3 };
        var early = ArrowSelection.Select(Mesh(3), 0, [], 0, policy, new Xoshiro256StarStar(5), meshSize: 10);
        Assert.Equal(2, early.Count);
        Assert.All(early, c => Assert.Equal(SelectionReason.Random, c.Reason));

        var small = ArrowSelection.Select(Mesh(3), 0, [], 0, policy, new Xoshiro256StarStar(5), meshSize: 3);
        Assert.Equal([1, 2], small.Select(c => c.Peer).Order());
        Assert.All(small, c => Assert.Equal(SelectionReason.SmallMesh, c.Reason));
    }

    [Fact]
    public void Select_SmallMeshSizeZero_DrawsAtRandomEvenInATinyMesh()
    {
        var policy = Policy with { ArrowsPerNode = 2, SmallMeshSize = 0 };
        var choices = ArrowSelection.Select(Mesh(5), 0, [], 0, policy, new Xoshiro256StarStar(5));
        Assert.Equal(2, choices.Count);
        Assert.All(choices, c => Assert.Equal(SelectionReason.Random, c.Reason));
    }

    [Fact]
    public void Select_ManySeeds_NeverChoosesSelfAConnectedPeerOrTheSamePeerTwice()
    {
        var mesh = Mesh(Members);
        var policy = Policy with { Preferred = new PreferredSubset(LabelSelector.MatchLabels(("none", "x")), 0.3), BootstrapPeers = ["n1", "n2"] };
        for (var seed = 0UL; seed < 2_000; seed++)
        {
            var random = new Xoshiro256StarStar(seed);
            var self = random.NextInt(Members);
            var others = Enumerable.Range(0, Members).Where(i => i != self).ToArray();
            random.Shuffle(others.AsSpan());
            var connected = others.AsSpan(0, random.NextInt(60)).ToArray();
            var outgoing = Math.Min(connected.Length, random.NextInt(12));
            var choices = ArrowSelection.Select(mesh, self, connected, outgoing, policy, random);

            Assert.Equal(Math.Max(0, policy.ArrowsPerNode - outgoing), choices.Count);
            Assert.DoesNotContain(choices, c => c.Peer == self);
            Assert.DoesNotContain(choices, c => connected.Contains(c.Peer));
            Assert.Equal(choices.Count, choices.Select(c => c.Peer).Distinct().Count());
        }
    }

    [Fact]
    public void Select_FewerEligiblePeersThanNeeded_ChoosesAllOfThem()
    {
        var choices = ArrowSelection.Select(Mesh(20), 0, [.. Enumerable.Range(1, 15)], 0, Policy, new Xoshiro256StarStar(9));
        Assert.Equal([16, 17, 18, 19], choices.Select(c => c.Peer).Order());
    }

    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    public void Select_OutgoingAtOrAboveArrowsPerNode_ChoosesNothing(int outgoing)
    {
        var choices = ArrowSelection.Select(Mesh(Members), 0, [], outgoing, Policy, new Xoshiro256StarStar(1));
        Assert.Empty(choices);
    }

    [Fact]
    public void Select_OutgoingBelowArrowsPerNode_ChoosesTheDifference()
    {
        var choices = ArrowSelection.Select(Mesh(Members), 0, [1, 2, 3, 4, 5, 6, 7], 7, Policy, new Xoshiro256StarStar(1));
        Assert.Equal(3, choices.Count);
    }

    [Fact]
    public void Select_SameSeed_SameChoices()
    {
        var mesh = Mesh(Members);
        var differ = 0;
        for (var seed = 0UL; seed < 20; seed++)
        {
            var a = ArrowSelection.Select(mesh, 3, [4, 5], 2, Policy, new Xoshiro256StarStar(seed));
            var b = ArrowSelection.Select(mesh, 3, [4, 5], 2, Policy, new Xoshiro256StarStar(seed));
            var c = ArrowSelection.Select(mesh, 3, [4, 5], 2, Policy, new Xoshiro256StarStar(seed + 1000));
            Assert.Equal(a, b);
            differ += a.SequenceEqual(c) ? 0 : 1;
        }

        Assert.Equal(20, differ);
    }

    private static MemberSet Mesh(int count) => new(Enumerable.Range(0, count).Select(i => NodeInfo.Named($"n{i}")));

    /// <summary>200 nodes, 40 of them (100..139) labelled tier=core.</summary>
    private static MemberSet MeshWithCore(out int[] core)
    {
        core = [.. Enumerable.Range(100, 40)];
        var labelled = new Dictionary<string, string> { ["tier"] = "core" };
        return new MemberSet(Enumerable.Range(0, Members).Select(i => i is >= 100 and < 140 ? new NodeInfo($"n{i}", labelled) : NodeInfo.Named($"n{i}")));
    }

    private static bool IsFiltered(int i) => i % 4 == 0;

    private static bool IsFilteredOpenVpnOnly(int i) => i % 20 == 0;

    /// <summary>Every 4th node is filtered; every 20th runs OpenVPN only (filtered: no technology left), and so do the nodes at 10 mod 20 (not filtered); nodes at 3 mod 7 run WireGuard only.</summary>
    private static NodeInfo TechnologyNode(int i)
    {
        var labels = IsFiltered(i) ? new Dictionary<string, string> { ["filtered"] = "yes" } : NodeInfo.NoLabels;
        var technologies = i % 10 == 0 ? TunnelTechnology.OpenVpn : i % 7 == 3 ? TunnelTechnology.WireGuard : TunnelTechnology.All;
        return new NodeInfo($"n{i}", labels, 1, technologies);
    }
}
