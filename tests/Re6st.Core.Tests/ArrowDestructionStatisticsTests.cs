using Re6st.Core.Arrows;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Core.Tests;

public sealed class ArrowDestructionStatisticsTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly RandomizationPolicy Policy = RandomizationPolicy.Default;

    [Fact]
    public void Decide_NoArrowInUse_DestroysTheDestroyShare()
    {
        const int Rounds = 5_000;
        var arrows = Enumerable.Repeat(new ArrowStatus(ArrowState.Active, 0), 20).ToArray();
        var destroyed = new long[arrows.Length];
        for (var round = 0; round < Rounds; round++)
        {
            var decisions = ArrowDestruction.Decide(arrows, Now, Policy, Xoshiro256StarStar.ForStream(1, (ulong)round));
            Assert.Equal(arrows.Length, decisions.Length);
            for (var i = 0; i < decisions.Length; i++)
            {
                Assert.True(
                    decisions[i] == new ArrowDecision(ArrowAction.Destroy, DecisionReason.Random) || decisions[i] == new ArrowDecision(ArrowAction.Keep, DecisionReason.NotDrawn),
                    $"unexpected {decisions[i]} for an unused arrow");
                destroyed[i] += decisions[i].Action == ArrowAction.Destroy ? 1 : 0;
            }
        }

        Statistics.AssertProportion(destroyed.Sum(), (long)Rounds * arrows.Length, Policy.DestroyShare, "arrows destroyed");

        // Each arrow on its own too: no position is favoured (20 checks, each at 5 standard deviations).
        for (var i = 0; i < destroyed.Length; i++)
        {
            Statistics.AssertProportion(destroyed[i], Rounds, Policy.DestroyShare, $"arrow {i} destroyed");
        }
    }

    [Fact]
    public void Decide_MostUsedArrows_AreDrawnAtTheReducedProbabilityAndTheOthersAtTheNormalOne()
    {
        // Ten active arrows carrying 1..10 routes: round(10 × 0.2) = 2 most used (the ones with 10 and 9 routes).
        const int Rounds = 20_000;
        var arrows = Enumerable.Range(1, 10).Select(r => new ArrowStatus(ArrowState.Active, r)).ToArray();
        var drained = new long[arrows.Length];
        var spared = new long[arrows.Length];
        for (var round = 0; round < Rounds; round++)
        {
            var decisions = ArrowDestruction.Decide(arrows, Now, Policy, Xoshiro256StarStar.ForStream(2, (ulong)round));
            for (var i = 0; i < decisions.Length; i++)
            {
                Assert.NotEqual(ArrowAction.Destroy, decisions[i].Action);
                drained[i] += decisions[i] == new ArrowDecision(ArrowAction.StartDrain, DecisionReason.InUse) ? 1 : 0;
                spared[i] += decisions[i].Reason == DecisionReason.MostUsedSpared ? 1 : 0;
            }
        }

        var reduced = Policy.DestroyShare * Policy.MostUsedFactor;
        for (var i = 0; i < arrows.Length; i++)
        {
            var mostUsed = i >= 8;
            Statistics.AssertProportion(drained[i], Rounds, mostUsed ? reduced : Policy.DestroyShare, $"arrow with {arrows[i].RoutesCarried} routes drained");
            if (mostUsed)
            {
                // Spared exactly when drawn at the normal probability but not at the reduced one.
                Statistics.AssertProportion(spared[i], Rounds, Policy.DestroyShare - reduced, $"arrow with {arrows[i].RoutesCarried} routes spared");
            }
            else
            {
                Assert.Equal(0, spared[i]);
            }
        }
    }

    [Theory]
    [InlineData(1, 0.2, 0)]
    [InlineData(3, 0.2, 1)]
    [InlineData(10, 0.2, 2)]
    [InlineData(12, 0.2, 2)]
    [InlineData(13, 0.2, 3)]
    [InlineData(2, 0.25, 1)]
    [InlineData(6, 0.25, 2)]
    [InlineData(10, 0.25, 3)]
    [InlineData(10, 0.5, 5)]
    [InlineData(10, 1.0, 10)]
    [InlineData(10, 0.0, 0)]
    public void Decide_NumberOfMostUsedArrows_IsTheRoundedShareOfActiveArrows(int active, double share, int expected)
    {
        // With destroyShare 1 and factor 0 every arrow is drawn and every most-used one is spared, so the flags show.
        var policy = Policy with { DestroyShare = 1, MostUsedShare = share, MostUsedFactor = 0 };
        var arrows = Enumerable.Range(1, active).Select(r => new ArrowStatus(ArrowState.Active, r)).ToArray();
        var decisions = ArrowDestruction.Decide(arrows, Now, policy, new Xoshiro256StarStar(3));
        var spared = Enumerable.Range(0, active).Where(i => decisions[i].Reason == DecisionReason.MostUsedSpared).ToArray();
        Assert.Equal(Enumerable.Range(active - expected, expected), spared);
        Assert.All(decisions.Where(d => d.Reason != DecisionReason.MostUsedSpared), d => Assert.Equal(new ArrowDecision(ArrowAction.StartDrain, DecisionReason.InUse), d));
    }

    [Fact]
    public void Decide_DrainingArrows_DoNotCountTowardsTheMostUsedShare()
    {
        // Five active arrows (round(5 × 0.2) = 1 most used) and five draining ones carrying more routes.
        var policy = Policy with { DestroyShare = 1, MostUsedFactor = 0 };
        var arrows = Enumerable.Range(1, 5).Select(r => new ArrowStatus(ArrowState.Active, r))
            .Concat(Enumerable.Range(0, 5).Select(_ => new ArrowStatus(ArrowState.Draining, 100, 0, Now)))
            .ToArray();
        var decisions = ArrowDestruction.Decide(arrows, Now, policy, new Xoshiro256StarStar(4));
        Assert.Equal(4, Array.FindIndex(decisions, d => d.Reason == DecisionReason.MostUsedSpared));
        Assert.Single(decisions, d => d.Reason == DecisionReason.MostUsedSpared);
        Assert.All(decisions.Skip(5), d => Assert.Equal(DecisionReason.StillDraining, d.Reason));
    }

    [Fact]
    public void Decide_FewerUsedArrowsThanTheShare_OnlyUsedOnesAreMostUsed()
    {
        // Share 0.5 of 10 active is 5, but only two carry anything (one routes, one traffic only).
        var policy = Policy with { DestroyShare = 1, MostUsedShare = 0.5, MostUsedFactor = 0 };
        var arrows = Enumerable.Repeat(new ArrowStatus(ArrowState.Active, 0), 10).ToArray();
        arrows[3] = new ArrowStatus(ArrowState.Active, 4);
        arrows[7] = new ArrowStatus(ArrowState.Active, 0, 5_000);
        var decisions = ArrowDestruction.Decide(arrows, Now, policy, new Xoshiro256StarStar(5));
        Assert.Equal([3, 7], Enumerable.Range(0, 10).Where(i => decisions[i].Reason == DecisionReason.MostUsedSpared));
        Assert.All(decisions.Where(d => d.Reason != DecisionReason.MostUsedSpared), d => Assert.Equal(new ArrowDecision(ArrowAction.Destroy, DecisionReason.Random), d));
    }

    [Fact]
    public void Decide_EqualRoutes_RanksByTrafficThenAtRandom()
    {
        var policy = Policy with { DestroyShare = 1, MostUsedShare = 0.2, MostUsedFactor = 0 };
        var arrows = Enumerable.Range(0, 10).Select(i => new ArrowStatus(ArrowState.Active, 5, i == 6 ? 1_000 : 10)).ToArray();
        var decisions = ArrowDestruction.Decide(arrows, Now, policy, new Xoshiro256StarStar(6));
        Assert.Equal(DecisionReason.MostUsedSpared, decisions[6].Reason);
        Assert.Equal(2, decisions.Count(d => d.Reason == DecisionReason.MostUsedSpared));
    }

    [Fact]
    public void Decide_TiedMostUsedArrows_AreFlaggedUniformlyNotByPosition()
    {
        const int Rounds = 20_000;
        var policy = Policy with { DestroyShare = 1, MostUsedShare = 0.2, MostUsedFactor = 0 };
        var arrows = Enumerable.Repeat(new ArrowStatus(ArrowState.Active, 5, 100), 10).ToArray();
        var flagged = new long[arrows.Length];
        for (var round = 0; round < Rounds; round++)
        {
            var decisions = ArrowDestruction.Decide(arrows, Now, policy, Xoshiro256StarStar.ForStream(7, (ulong)round));
            for (var i = 0; i < decisions.Length; i++)
            {
                flagged[i] += decisions[i].Reason == DecisionReason.MostUsedSpared ? 1 : 0;
            }
        }

        Statistics.AssertUniformSubsets(flagged, Rounds, 2, "most-used flags among tied arrows");
    }

    [Fact]
    public void Decide_ArrowInUseDrawn_IsDrainedNeverDestroyed()
    {
        var arrows = Enumerable.Range(0, 10).Select(i => new ArrowStatus(ArrowState.Active, i % 2)).ToArray();
        var seen = new HashSet<ArrowDecision>();
        for (var round = 0UL; round < 2_000; round++)
        {
            var decisions = ArrowDestruction.Decide(arrows, Now, Policy, new Xoshiro256StarStar(round));
            for (var i = 0; i < decisions.Length; i++)
            {
                if (arrows[i].InUse)
                {
                    Assert.NotEqual(ArrowAction.Destroy, decisions[i].Action);
                    seen.Add(decisions[i]);
                }
                else
                {
                    Assert.NotEqual(ArrowAction.StartDrain, decisions[i].Action);
                }
            }
        }

        Assert.Contains(new ArrowDecision(ArrowAction.StartDrain, DecisionReason.InUse), seen);
    }

    [Theory]
    [InlineData(0, 0, "Destroy", "Drained")]
    [InlineData(0, 120, "Destroy", "Drained")]
    [InlineData(3, 0, "Keep", "StillDraining")]
    [InlineData(3, 59, "Keep", "StillDraining")]
    [InlineData(3, 60, "Destroy", "ForcedAfterMaxDrain")]
    [InlineData(3, 61, "Destroy", "ForcedAfterMaxDrain")]
    public void Decide_DrainingArrow_FinishesWhenUnusedOrAtMaxDrain(int routes, int minutesDraining, string action, string reason)
    {
        var arrow = new ArrowStatus(ArrowState.Draining, routes, 0, Now - TimeSpan.FromMinutes(minutesDraining));
        var decision = ArrowDestruction.Decide([arrow], Now, Policy, new Xoshiro256StarStar(8))[0];
        Assert.Equal(new ArrowDecision(Enum.Parse<ArrowAction>(action), Enum.Parse<DecisionReason>(reason)), decision);
    }

    [Fact]
    public void Decide_DrainingArrowJustBeforeMaxDrain_IsKept()
    {
        var arrow = new ArrowStatus(ArrowState.Draining, 3, 0, Now - Policy.MaxDrain!.Value + TimeSpan.FromTicks(1));
        Assert.Equal(DecisionReason.StillDraining, ArrowDestruction.Decide([arrow], Now, Policy, new Xoshiro256StarStar(8))[0].Reason);
    }

    [Fact]
    public void Decide_MaxDrainNever_NeverForcesADrainingArrow()
    {
        var policy = Policy with { MaxDrain = null };
        var arrow = new ArrowStatus(ArrowState.Draining, 3, 0, Now - TimeSpan.FromDays(1000));
        Assert.Equal(new ArrowDecision(ArrowAction.Keep, DecisionReason.StillDraining), ArrowDestruction.Decide([arrow], Now, policy, new Xoshiro256StarStar(8))[0]);
        var unused = arrow with { RoutesCarried = 0 };
        Assert.Equal(new ArrowDecision(ArrowAction.Destroy, DecisionReason.Drained), ArrowDestruction.Decide([unused], Now, policy, new Xoshiro256StarStar(8))[0]);
    }

    [Fact]
    public void Decide_DestroyShareZero_DestroysNothing()
    {
        var policy = Policy with { DestroyShare = 0 };
        var arrows = Enumerable.Range(0, 10).Select(i => new ArrowStatus(ArrowState.Active, i % 3, i)).ToArray();
        for (var round = 0UL; round < 1_000; round++)
        {
            var decisions = ArrowDestruction.Decide(arrows, Now, policy, new Xoshiro256StarStar(round));
            Assert.All(decisions, d => Assert.Equal(new ArrowDecision(ArrowAction.Keep, DecisionReason.NotDrawn), d));
        }
    }

    [Fact]
    public void Decide_DestroyShareOne_DestroysOrDrainsEveryArrowButTheSparedMostUsed()
    {
        const int Rounds = 5_000;
        var policy = Policy with { DestroyShare = 1 };
        var arrows = Enumerable.Range(0, 10).Select(i => new ArrowStatus(ArrowState.Active, i < 5 ? 0 : i)).ToArray();
        var mostUsedRemoved = 0L;
        for (var round = 0; round < Rounds; round++)
        {
            var decisions = ArrowDestruction.Decide(arrows, Now, policy, Xoshiro256StarStar.ForStream(9, (ulong)round));
            for (var i = 0; i < 8; i++)
            {
                Assert.Equal(i < 5 ? new ArrowDecision(ArrowAction.Destroy, DecisionReason.Random) : new ArrowDecision(ArrowAction.StartDrain, DecisionReason.InUse), decisions[i]);
            }

            // Arrows 8 and 9 carry the most routes: drawn with probability 1 × 0.5, spared otherwise.
            for (var i = 8; i < 10; i++)
            {
                Assert.True(decisions[i].Reason is DecisionReason.InUse or DecisionReason.MostUsedSpared, $"arrow {i}: {decisions[i]}");
                mostUsedRemoved += decisions[i].Reason == DecisionReason.InUse ? 1 : 0;
            }
        }

        Statistics.AssertProportion(mostUsedRemoved, 2L * Rounds, policy.MostUsedFactor, "most-used arrows drained");
    }

    [Fact]
    public void Decide_MostUsedFactorOne_SparesNothing()
    {
        var policy = Policy with { DestroyShare = 1, MostUsedFactor = 1 };
        var arrows = Enumerable.Range(1, 10).Select(r => new ArrowStatus(ArrowState.Active, r)).ToArray();
        var decisions = ArrowDestruction.Decide(arrows, Now, policy, new Xoshiro256StarStar(10));
        Assert.All(decisions, d => Assert.Equal(new ArrowDecision(ArrowAction.StartDrain, DecisionReason.InUse), d));
    }

    [Fact]
    public void Decide_SameSeed_SameDecisions()
    {
        var arrows = Enumerable.Range(0, 30).Select(i => new ArrowStatus(i % 7 == 0 ? ArrowState.Draining : ArrowState.Active, i % 4, i, Now.AddMinutes(-i * 3))).ToArray();
        var a = ArrowDestruction.Decide(arrows, Now, Policy, new Xoshiro256StarStar(11));
        var b = ArrowDestruction.Decide(arrows, Now, Policy, new Xoshiro256StarStar(11));
        var c = ArrowDestruction.Decide(arrows, Now, Policy, new Xoshiro256StarStar(12));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Decide_DecisionSpanTooShort_Throws()
    {
        var arrows = new ArrowStatus[3];
        var decisions = new ArrowDecision[2];
        Assert.Throws<ArgumentException>(() => ArrowDestruction.Decide(arrows, decisions, Now, Policy, new Xoshiro256StarStar(1)));
    }
}
