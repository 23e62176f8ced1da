namespace Re6st.Simulation;

/// <summary>A live display of a long run's progress (the command line's), instead of plain lines.</summary>
public interface IProgressView
{
    /// <summary>A new step; the one before it is done.</summary>
    void StartStep(string what);

    /// <summary>How far the step named <paramref name="what"/> is, from 0 to 1.</summary>
    void Report(string what, double fraction);
}
