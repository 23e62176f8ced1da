namespace Re6st.Agent.Lifecycle;

/// <summary>What a draining arrow's Babel does next.</summary>
public enum DrainStep
{
    /// <summary>Nothing changes this tick.</summary>
    Hold,

    /// <summary>Let Babel through again for a moment: routes still use the arrow.</summary>
    Breathe,

    /// <summary>Drop Babel again after a breath.</summary>
    Resume,
}

/// <summary>
/// The rhythm of a drain's dropped Babel. Pure: the same inputs give the same step.
/// <para>
/// Dropping an arrow's Babel makes its neighbour's cost climb with every missed hello (link
/// quality), so each route moves as soon as another way is cheaper. But babeld 1.12 forgets a
/// neighbour after about 10 missed hellos (its reach bitmap runs empty, or the cost overflows),
/// and then retracts the routes that had no other feasible way: they are unreachable until a
/// new sequence number from their origin comes back, seconds later. Measured in the lab: one
/// pair lost 5.3 s of pings when several drains around one host ran at once and its last way
/// to a peer was retracted like this, and the drain then took the retraction for routes that
/// had moved.
/// </para>
/// <para>
/// Exception within the drain, so an arrow in use is never cut by its own drain: Babel is
/// dropped for at most <see cref="DropWindow"/> (6 hellos) while routes still use the arrow;
/// then it passes for <see cref="Breath"/> (2 hellos), which gives the neighbour fresh hellos
/// and IHUs, and the drop resumes. Routes with another way leave during the drops; a route
/// without one stays on the arrow, carried, until a way appears (a new arrow, a new sequence
/// number) or maxDrain forces the cut. "No route uses it" counts as drained only when seen
/// while Babel has been dropped long enough for the far end's status to show it
/// (<see cref="Settle"/>) and not so long that babeld may have retracted routes instead
/// (<see cref="ForgetAfter"/>, 9 hellos).
/// </para>
/// <para>
/// Exception (<see cref="HandOver"/>) within the drain: while the arrow is held (its peer hands
/// over, or one of the two stands in for the other), and while its host stands in for any peer,
/// the drain pauses with Babel passing. A held
/// arrow is out of the destruction policy's reach, so a drop begun before the hold would otherwise
/// last the whole hold: babeld forgets the neighbour, and the routes that had no other way than
/// this arrow once the peer's babeld went are gone (the likely cause of two hosts apart for 19 s
/// on real nodes while a third handed over, right after churn had left drains going).
/// </para>
/// <para>
/// Exception (last way out) within the drain: while its host has no other arrow up and not
/// draining, a drain pauses the same way, and "no route uses it" concludes nothing (HostAgent's
/// destruction phase decides it; the pulse only follows).
/// </para>
/// </summary>
/// <param name="hello">The mesh's Babel hello interval.</param>
/// <param name="tick">The agent's tick: the drain is looked at once per tick, and statuses are published once per tick.</param>
public sealed class DrainPulse(TimeSpan hello, TimeSpan tick)
{
    /// <summary>
    /// How long Babel must have been dropped before "no route uses it" is believed. The far end's
    /// routes come from its status, a tick or more old: a status written after the drop began must
    /// have arrived (two ticks), and the far end's babeld, hearing no more Babel on the arrow, must
    /// have moved its routes (two hellos).
    /// </summary>
    public TimeSpan Settle => (2 * hello) + (2 * tick);

    /// <summary>The longest Babel is dropped while routes still use the arrow.</summary>
    public TimeSpan DropWindow => 6 * hello;

    /// <summary>How long Babel passes between two drops.</summary>
    public TimeSpan Breath => 2 * hello;

    /// <summary>
    /// After this long without Babel, "no route uses it" may mean routes were retracted, not moved.
    /// A tick too slow to look within it cannot tell either way, so it is never shorter than the
    /// settle time plus one tick (which only a tick of several hellos needs).
    /// </summary>
    public TimeSpan ForgetAfter => TimeSpan.FromTicks(Math.Max((9 * hello).Ticks, (Settle + tick).Ticks));

    /// <param name="breathing">Babel passes now (a breath) rather than being dropped.</param>
    /// <param name="since">When the current drop or breath began.</param>
    /// <param name="inUse">Routes still use the arrow, at this end or the far end.</param>
    /// <param name="held">The drain pauses (a hand-over's hold, or its host's last way out): Babel passes until the pause ends (see the class remarks).</param>
    public DrainStep Next(bool breathing, DateTimeOffset since, DateTimeOffset now, bool inUse, bool held = false)
    {
        if (held)
        {
            return breathing ? DrainStep.Hold : DrainStep.Breathe;
        }

        var elapsed = now - since;
        if (breathing)
        {
            return elapsed >= Breath ? DrainStep.Resume : DrainStep.Hold;
        }

        return (inUse && elapsed >= DropWindow) || elapsed >= ForgetAfter ? DrainStep.Breathe : DrainStep.Hold;
    }

    /// <summary>Whether "no route uses it" can be believed now (see the class remarks).</summary>
    public bool MayConclude(bool breathing, DateTimeOffset since, DateTimeOffset now)
    {
        var elapsed = now - since;
        return !breathing && elapsed >= Settle && elapsed < ForgetAfter;
    }
}
