using System.Diagnostics;
using Re6st.Agent.Lifecycle;
using Re6st.Core.Policy;

namespace Re6st.Agent.Tracing;

/// <summary>
/// One host's spans, each with its node and mesh: a tick of the lifecycle loop is the parent of the
/// arrows it creates, accepts and destroys (with the arrow's id, peer, interface, sub-mesh and
/// technology), of the drains that end (a span from the drain's start) and of babeld's restarts.
/// Nothing listens unless traces are exported: every method then returns null at once.
/// </summary>
public sealed class AgentTracing(string node, string mesh)
{
    public const string SourceName = "Re6st.Agent";

    private static readonly ActivitySource Source = new(SourceName);

    public Activity? Tick() => Start("re6st.agent.tick");

    /// <summary>
    /// Drops a tick that changed nothing before it is exported: ticks come every second and most of
    /// them only find that nothing is to be done.
    /// </summary>
    public static void Unrecord(Activity? tick)
    {
        if (tick is not null)
        {
            tick.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        }
    }

    /// <summary>A step of one arrow's life: re6st.arrow.create, .accept, .adopt or .destroy.</summary>
    public Activity? Arrow(string step, ArrowRecord arrow) => Tagged(Start("re6st.arrow." + step), arrow);

    /// <summary>The drain of <paramref name="arrow"/>, which ends now: forced when maxDrain cut it short.</summary>
    public void DrainEnded(ArrowRecord arrow, DateTimeOffset started, bool forced)
    {
        using var drain = Tagged(Start("re6st.arrow.drain", started), arrow);
        drain?.SetTag("re6st.drain.forced", forced);
    }

    /// <summary>babeld starts: with the agent, or again for a new plan or key (filters and keys are read at start only).</summary>
    public Activity? Babeld(string reason) => Start("re6st.babeld.start")?.SetTag("re6st.babeld.reason", reason);

    /// <summary>The host's sub-meshes changed: the arrows of the old ones go, the interface pools are rebuilt.</summary>
    public Activity? Replan(string[] subMeshes) => Start("re6st.agent.replan")?.SetTag("re6st.submeshes", subMeshes);

    private static Activity? Tagged(Activity? span, ArrowRecord arrow) => span?
        .SetTag("re6st.arrow.id", arrow.Id)
        .SetTag("re6st.arrow.peer", arrow.Peer)
        .SetTag("re6st.arrow.interface", arrow.Interface)
        .SetTag("re6st.submesh", arrow.SubMesh)
        .SetTag("re6st.technology", arrow.Technology.ToName());

    private Activity? Start(string name, DateTimeOffset startTime = default) =>
        Source.StartActivity(name, ActivityKind.Internal, parentContext: default, startTime: startTime)?
            .SetTag("re6st.node", node)
            .SetTag("re6st.mesh", mesh);
}
