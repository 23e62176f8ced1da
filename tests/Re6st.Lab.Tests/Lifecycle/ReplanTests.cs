using Re6st.Agent.Membership;
using Re6st.Agent.Tracing;
using Re6st.Core.Addressing;
using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Re6st.Testing;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

public sealed class ReplanTests(ITestOutputHelper output)
{
    [Fact]
    public async Task NewPlanWithAnAggregate_IsAnnouncedToEveryHost_WithoutCuttingAnyArrow()
    {
        using var spans = new SpanRecorder("re6st-agent", AgentTracing.SourceName);
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 2, SmallMeshSize = 0, RefreshPeriod = "10m" };
        await using var mesh = await AgentMesh.StartAsync(lab, 5, policy, seed: 9);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));
        var a = mesh.Agents[0];
        var arrowsBefore = a.Arrows.Select(x => x.Id).Order().ToList();

        // What the operator writes when host a is elected a bridge: one more prefix to announce.
        var aggregate = IpPrefix.Parse("fd5e:6b00::/48");
        var plans = mesh.Hosts.Select(LabOperator.FlatPlan).ToList();
        plans[0] = plans[0] with { Memberships = [.. plans[0].Memberships.Select(m => m with { Announce = [.. m.Announce, aggregate] })] };
        foreach (var file in LabOperator.Files(plans, policy, TimeSpan.FromSeconds(1)))
        {
            await DirectoryMembershipSource.WritePlanAsync(lab.PathFor("membership"), file, CancellationToken.None);
        }

        await mesh.WaitForRoutesAsync(TimeSpan.FromSeconds(60), mesh.Agents.Skip(1).ToDictionary(x => x.Node, _ => (IReadOnlyCollection<IpPrefix>)[aggregate]));
        Assert.Equal(1, a.Decisions.GetValueOrDefault("babeld-reconfigured"));
        Assert.Equal(arrowsBefore, a.Arrows.Select(x => x.Id).Order().ToList());
        var restart = Assert.Single(spans.Named("re6st.babeld.start"), s => (string?)SpanRecorder.Tag(s, "re6st.babeld.reason") == "new-plan-or-key");
        Assert.Equal(a.Node, SpanRecorder.Tag(restart, "re6st.node"));
        Assert.Contains(spans.Named("re6st.agent.tick"), t => t.SpanId == restart.ParentSpanId && (string?)SpanRecorder.Tag(t, "re6st.node") == a.Node);
        Assert.DoesNotContain(spans.Named("re6st.arrow.destroy"), s => (string?)SpanRecorder.Tag(s, "re6st.node") == a.Node);
        Assert.Contains("fd5e:6b00::/48", (await lab.IpAsync(mesh.Hosts[0], "-6", "route", "show", "proto", "static")).Output, StringComparison.Ordinal);

        // And the whole mesh still reaches host a after its babeld restarted.
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));
    }
}
