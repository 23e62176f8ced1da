using k8s.Models;
using Re6st.Contracts;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;
using Re6st.Operator.Health;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Tests;

/// <summary>
/// The principle audit of <c>re6st check</c> on meshes built here: one whose statuses come from
/// the core's own selection and destruction passes every item, and each way a principle can be
/// broken (destruction stopped or running wild, stretched periods, an arrow that outlives the draw,
/// a skewed choice of peers, an exception out of its bounds) is named with its host.
/// </summary>
public sealed class PrincipleAuditTests
{
    private const int Hosts = 30;
    private const int Periods = 20;
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly RandomizationPolicy Policy = RandomizationPolicy.Default;

    [Fact]
    public void AMeshRunByTheCoresOwnPolicy_PassesEveryItem()
    {
        var items = Audit(Mesh(seed: 1));

        Assert.Equal(["m: destruction", "m: period", "m: arrow age", "m: peer choice", "m: exceptions"], items.Select(i => i.Name));
        Assert.All(items, i => Assert.True(i.Outcome == Outcome.Pass, i.ToString()));
    }

    [Fact]
    public void AMeshRunByTheCoresOwnPolicy_PassesOverManySeeds()
    {
        // 5σ bounds: no false alarm in 50 meshes.
        for (var seed = 2UL; seed < 52; seed++)
        {
            Assert.All(Audit(Mesh(seed)), i => Assert.True(i.Outcome == Outcome.Pass, $"seed {seed}: {i}"));
        }
    }

    [Fact]
    public void NoArrowDestroyed_OverManyDraws_FailsDestruction_NamingTheHosts()
    {
        var nodes = Mesh(seed: 1, edit: n => n.Status!.Churn!.Destroyed = 0);

        var item = Audit(nodes).Single(i => i.Name == "m: destruction");

        Assert.Equal(Outcome.Fail, item.Outcome);
        Assert.Contains("no arrow destroyed: 0 of 6000 arrows", item.Reason, StringComparison.Ordinal);
        Assert.Contains("life requires destruction", item.Reason, StringComparison.Ordinal);
        Assert.Equal(Hosts, item.Hosts!.Count);
    }

    [Fact]
    public void TwiceTheShareDestroyed_WarnsTooMany()
    {
        var nodes = Mesh(seed: 1, edit: n => n.Status!.Churn!.Destroyed = n.Status.Churn.Drawn * 6 / 10);

        var item = Audit(nodes).Single(i => i.Name == "m: destruction");

        Assert.Equal(Outcome.Warn, item.Outcome);
        Assert.StartsWith("too many arrows destroyed: 3600 of 6000", item.Reason, StringComparison.Ordinal);
        Assert.Contains("60 % per period against 27 %–30 %", item.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AStretchedPeriod_WarnsNamingTheHost_AndAFewPercentDoNot()
    {
        var nodes = Mesh(seed: 1, edit: n => n.Status!.Churn!.PeriodSeconds = n.Spec.Node == "h07" ? 346 : 304);

        var item = Audit(nodes).Single(i => i.Name == "m: period");

        Assert.Equal(Outcome.Warn, item.Outcome);
        Assert.Equal(["h07"], item.Hosts);
        Assert.Contains("h07 (346 s)", item.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AnArrowThatOutlivesTheDraw_WarnsNamingItsHost()
    {
        // 300 arrows, 27 % destroyed per period at least: all survive k periods with a chance
        // below 1e-6 from k = ceil(ln(1e-6 / 300) / ln(0.73)) = 63 periods (5 h 15 min), plus maxDrain 60 min.
        var nodes = Mesh(seed: 1, edit: n =>
        {
            if (n.Spec.Node == "h03")
            {
                n.Status!.Arrows![0].Since = StatusHeartbeat.Format(Now - TimeSpan.FromHours(6.5));
            }
        });

        var item = Audit(nodes).Single(i => i.Name == "m: arrow age");

        Assert.Equal(Outcome.Warn, item.Outcome);
        Assert.Equal(["h03"], item.Hosts);
        Assert.Contains("bound 375 min (63 periods", item.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryHostChoosingTheSameFewPeers_WarnsPeerChoice()
    {
        var nodes = Mesh(seed: 1, edit: n =>
        {
            foreach (var (arrow, i) in n.Status!.Arrows!.Where(a => a.Initiated).Select((a, i) => (a, i)))
            {
                arrow.Peer = $"h{(i % 5) + (n.Spec.Node == "h00" ? 5 : 0):D2}";
            }
        });

        var item = Audit(nodes).Single(i => i.Name == "m: peer choice");

        Assert.Equal(Outcome.Warn, item.Outcome);
        Assert.StartsWith("hosts are not chosen evenly", item.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void SmallMeshArrowsInALargeSubMesh_AndTooManyBootstrapArrows_WarnExceptions()
    {
        var nodes = Mesh(seed: 1, edit: n =>
        {
            if (n.Spec.Node == "h01")
            {
                n.Status!.Churn!.Created!["small-mesh"] = 9;
            }

            if (n.Spec.Node == "h02")
            {
                n.Status!.Arrows![0].Reason = "bootstrap";
            }
        });

        var item = Audit(nodes).Single(i => i.Name == "m: exceptions");

        Assert.Equal(Outcome.Warn, item.Outcome);
        Assert.Equal(["h01", "h02"], item.Hosts);
        Assert.Contains("h01 opened 9 arrow(s) under the small-mesh exception in sub-meshes of more than smallMeshSize 8 hosts", item.Reason, StringComparison.Ordinal);
        Assert.Contains("h02 holds 1 bootstrap arrow(s), more than its 0 named peer(s)", item.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AgentsThatPublishNoCounters_GiveNoAuditItem()
    {
        Assert.Empty(Audit(Mesh(seed: 1, edit: n =>
        {
            n.Status!.Churn = null;
            foreach (var arrow in n.Status.Arrows!)
            {
                (arrow.Since, arrow.Reason) = (null, null);
            }
        })));
    }

    [Fact]
    public void DestroyedShare_IsWhatThePolicyImplies()
    {
        var (lowest, highest) = PrincipleAudit.DestroyedShare(Policy);
        Assert.Equal(0.3 * (1 - (0.2 * (1 - 0.5))), lowest, 12);
        Assert.Equal(0.3, highest);
    }

    private static IReadOnlyList<CheckItem> Audit(IReadOnlyList<V1Alpha1MeshNode> nodes) => [.. PrincipleAudit.Run("m", nodes, Policy, Now)];

    /// <summary>
    /// 30 hosts in one sub-mesh, each with the arrows the core's selection draws, aged as the
    /// destruction draw ages them, and churn counters from the core's destruction decisions over
    /// 20 periods (routes carried drawn at random, so the most-used exception plays).
    /// </summary>
    private static List<V1Alpha1MeshNode> Mesh(ulong seed, Action<V1Alpha1MeshNode>? edit = null)
    {
        var random = new Xoshiro256StarStar(seed);
        var names = Enumerable.Range(0, Hosts).Select(i => $"h{i:D2}").ToList();
        var members = new MemberSet(names.Select(NodeInfo.Named));
        var nodes = new List<V1Alpha1MeshNode>();
        for (var self = 0; self < Hosts; self++)
        {
            var choices = ArrowSelection.Select(members, self, [], 0, Policy, random);
            var (drawn, destroyed, spared) = (0, 0, 0);
            for (var period = 0; period < Periods; period++)
            {
                var statuses = choices.Select(_ => new ArrowStatus(ArrowState.Active, (int)(random.NextUInt64() % 3))).ToArray();
                foreach (var decision in ArrowDestruction.Decide(statuses, Now, Policy, random))
                {
                    drawn++;
                    destroyed += decision.Drawn ? 1 : 0;
                    spared += decision.Reason == DecisionReason.MostUsedSpared ? 1 : 0;
                }
            }

            nodes.Add(new V1Alpha1MeshNode
            {
                Metadata = new V1ObjectMeta { Name = $"{names[self]}.m" },
                Spec = new MeshNodeSpec { Mesh = "m", Node = names[self], HomeSubMesh = "root", Memberships = [new MembershipResource { SubMesh = "root" }] },
                Status = new MeshNodeStatus
                {
                    Arrows =
                    [
                        .. choices.Select(c => new ArrowStatusResource
                        {
                            Peer = names[c.Peer],
                            SubMesh = "root",
                            Initiated = true,
                            State = "active",
                            Reason = c.Reason == SelectionReason.Random ? "random" : c.Reason.ToString().ToLowerInvariant(),
                            Since = StatusHeartbeat.Format(Now - (Survived(random) * Policy.RefreshPeriod) - TimeSpan.FromSeconds(random.NextDouble() * 300)),
                        }),
                    ],
                    Churn = new ChurnStatusResource
                    {
                        Since = StatusHeartbeat.Format(Now - (Periods * Policy.RefreshPeriod)),
                        Periods = Periods,
                        Drawn = drawn,
                        Destroyed = destroyed,
                        Spared = spared,
                        PeriodSeconds = 300.4,
                        Created = new Dictionary<string, int> { ["random"] = choices.Count + destroyed },
                    },
                },
            });
        }

        foreach (var node in nodes)
        {
            edit?.Invoke(node);
        }

        return nodes;
    }

    /// <summary>Periods an arrow survived the draw: geometric, at the policy's share (the most-used exception left aside).</summary>
    private static int Survived(IRandomSource random) => (int)Math.Floor(Math.Log(1 - random.NextDouble()) / Math.Log(1 - Policy.DestroyShare));
}
