namespace Re6st.Agent.Babel;

/// <summary>What one babeld supervision counted: restarts after an exit, runaways stopped, output lines, and lines left out as repeats.</summary>
public readonly record struct BabeldCounts(int Restarts, int Runaways, long Lines, long SuppressedLines)
{
    public static BabeldCounts operator +(BabeldCounts a, BabeldCounts b) =>
        new(a.Restarts + b.Restarts, a.Runaways + b.Runaways, a.Lines + b.Lines, a.SuppressedLines + b.SuppressedLines);

    public static BabeldCounts Add(BabeldCounts a, BabeldCounts b) => a + b;
}
