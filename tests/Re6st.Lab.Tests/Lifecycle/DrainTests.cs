using System.Diagnostics;
using Re6st.Agent.Tracing;
using Re6st.Core.Policy;
using Re6st.Lab.Agents;
using Re6st.Lab.Netns;
using Re6st.Testing;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.Lifecycle;

public sealed class DrainTests(ITestOutputHelper output)
{
    [Fact]
    public async Task GracefulDestruction_LosesNoPacket_WhileAnAbruptCutOfTheSameKindOfArrowLosesSome()
    {
        using var spans = new SpanRecorder("re6st-agent", AgentTracing.SourceName);
        await using var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var policy = new RandomizationPolicySpec { ArrowsPerNode = 3, SmallMeshSize = 0, RefreshPeriod = "10m" };
        await using var mesh = await AgentMesh.StartAsync(lab, 6, policy, seed: 11);
        await mesh.WaitConvergedAsync(TimeSpan.FromSeconds(60));

        var (graceful, initiator) = await LabMeasurements.GracefulAsync(mesh, TimeSpan.FromSeconds(90));
        Assert.Equal(1, initiator.Decisions.GetValueOrDefault("destroyed/drained"));
        var scraped = await Scrape.Async(initiator);
        Assert.Equal(1, scraped.Value("re6st_arrows_destroyed_total", ("reason", "drained")));
        Assert.Equal(1, scraped.Value("re6st_drain_duration_seconds_count", ("outcome", "drained")));
        await TracesTellTheDrainAsync(spans, initiator.Node, scraped.Value("re6st_drain_duration_seconds_sum", ("outcome", "drained")));

        var abrupt = await LabMeasurements.AbruptAsync(mesh);
        var cut = Assert.Single(spans.Named("re6st.arrow.destroy"), s => Tag(s, "re6st.destroy.reason") == "cut");
        Assert.Contains(spans.Named("re6st.arrow.create"), s => Tag(s, "re6st.arrow.id") == Tag(cut, "re6st.arrow.id"));

        output.WriteLine($"graceful: {graceful}; abrupt: {abrupt}");
        Assert.True(graceful.Sent > 100, $"only {graceful.Sent} pings sent during the drain");
        Assert.Equal(0, graceful.Lost);
        Assert.True(abrupt.Lost > 0, $"the abrupt cut lost nothing ({abrupt}): the control case shows nothing");
    }

    /// <summary>The drained arrow's life in spans: created by a tick of its initiator, accepted by its peer, drained from start to end, destroyed at both ends with the reason.</summary>
    private static async Task TracesTellTheDrainAsync(SpanRecorder spans, string initiator, double drainSeconds)
    {
        var destroyed = Assert.Single(spans.Named("re6st.arrow.destroy"), s => Tag(s, "re6st.destroy.reason") == "drained");
        Assert.Equal(initiator, Tag(destroyed, "re6st.node"));
        var (id, peer) = (Tag(destroyed, "re6st.arrow.id")!, Tag(destroyed, "re6st.arrow.peer")!);

        var drain = Assert.Single(spans.Named("re6st.arrow.drain"));
        Assert.Equal(id, Tag(drain, "re6st.arrow.id"));
        Assert.Equal(false, SpanRecorder.Tag(drain, "re6st.drain.forced"));
        Assert.Equal(destroyed.SpanId, drain.ParentSpanId);
        var started = Assert.Single(spans.Named("re6st.arrow.drain_start"));
        Assert.Equal(id, Tag(started, "re6st.arrow.id"));
        Assert.InRange(started.StartTimeUtc - drain.StartTimeUtc, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.InRange(drain.Duration.TotalSeconds, drainSeconds - 0.5, drainSeconds + 0.5);

        var created = Assert.Single(spans.Named("re6st.arrow.create"), s => Tag(s, "re6st.arrow.id") == id);
        Assert.Equal((initiator, peer, "random"), (Tag(created, "re6st.node"), Tag(created, "re6st.arrow.peer"), Tag(created, "re6st.create.reason")));
        Assert.Contains(spans.Named("re6st.agent.tick"), t => t.SpanId == created.ParentSpanId && Tag(t, "re6st.node") == initiator);
        Assert.Contains(spans.Named("re6st.arrow.accept"), s => Tag(s, "re6st.arrow.id") == id && Tag(s, "re6st.node") == peer && Tag(s, "re6st.arrow.peer") == initiator);

        // The far end goes when the initiator says goodbye inside the tunnel (or stops publishing the
        // arrow), not later when its probes find the tunnel gone.
        var farEnd = await spans.EventuallyAsync(
            s => s.FirstOrDefault(x => x.OperationName == "re6st.arrow.destroy" && Tag(x, "re6st.arrow.id") == id && Tag(x, "re6st.node") == peer),
            TimeSpan.FromSeconds(10),
            $"the end of arrow {id} at {peer}");
        Assert.Equal("closed-by-peer", Tag(farEnd, "re6st.destroy.reason"));

        // Every host started its babeld; ticks are exported only when they did something.
        Assert.Equal(6, spans.Named("re6st.babeld.start").Where(s => Tag(s, "re6st.babeld.reason") == "agent-start").Select(s => Tag(s, "re6st.node")).Distinct().Count());
        var all = spans.Spans;
        var quiet = spans.Named("re6st.agent.tick").Where(t => t.Status != ActivityStatusCode.Error && !all.Any(s => s.ParentSpanId == t.SpanId)).ToList();
        Assert.True(quiet.Count == 0, $"ticks that did nothing were exported: {string.Join(", ", quiet.Select(SpanRecorder.Describe))}");
    }

    private static string? Tag(Activity span, string key) => SpanRecorder.Tag(span, key) as string;
}
