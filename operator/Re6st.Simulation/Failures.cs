namespace Re6st.Simulation;

/// <summary>What is broken in a scenario: dead nodes, and an Internet cut between two regions.</summary>
public sealed class Failures
{
    public static Failures None { get; } = new(null, null, -1, -1);

    public Failures(bool[]? dead, int[]? region, int cutA, int cutB)
    {
        Dead = dead;
        Region = region;
        CutA = cutA;
        CutB = cutB;
    }

    public bool[]? Dead { get; }

    public int[]? Region { get; }

    public int CutA { get; }

    public int CutB { get; }

    public bool IsAlive(int node) => Dead is null || !Dead[node];

    /// <summary>An arrow with one end in each of the two cut regions stops working.</summary>
    public bool IsCut(int u, int v)
    {
        if (Region is null || CutA < 0)
        {
            return false;
        }

        var a = Region[u];
        var b = Region[v];
        return (a == CutA && b == CutB) || (a == CutB && b == CutA);
    }

    public static Failures Kill(bool[] dead) => new(dead, null, -1, -1);

    public static Failures Cut(int[] region, int a, int b) => new(null, region, a, b);
}
