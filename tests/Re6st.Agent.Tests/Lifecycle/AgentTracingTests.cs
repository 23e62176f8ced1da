using Re6st.Agent.Lifecycle;
using Re6st.Agent.Tracing;
using Re6st.Core.Policy;
using Re6st.Testing;

namespace Re6st.Agent.Tests.Lifecycle;

public sealed class AgentTracingTests
{
    [Fact]
    public void UnrecordedTick_IsNotExported_WhileATickThatActedIs_WithItsArrowSpansBelowIt()
    {
        using var spans = new SpanRecorder("re6st-agent", AgentTracing.SourceName);
        var trace = new AgentTracing("host-1", "mesh-1");
        using (var quiet = trace.Tick())
        {
            AgentTracing.Unrecord(quiet);
        }

        var arrow = new ArrowRecord("0123456789ab", new Slot(0, 2, "re602", 51822), "host-2", "home", TunnelTechnology.WireGuard, initiated: true, DateTimeOffset.UtcNow);
        using (var acted = trace.Tick())
        {
            using var destroy = trace.Arrow("destroy", arrow)?.SetTag("re6st.destroy.reason", "random");
        }

        var tick = Assert.Single(spans.Named("re6st.agent.tick"));
        var destroyed = Assert.Single(spans.Named("re6st.arrow.destroy"));
        Assert.Equal(tick.SpanId, destroyed.ParentSpanId);
        Assert.Equal(
            "re6st.arrow.destroy(re6st.node=host-1 re6st.mesh=mesh-1 re6st.arrow.id=0123456789ab re6st.arrow.peer=host-2 re6st.arrow.interface=re602 re6st.submesh=home re6st.technology=wireguard re6st.destroy.reason=random)",
            SpanRecorder.Describe(destroyed));
    }
}
