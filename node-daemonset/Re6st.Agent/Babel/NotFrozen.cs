namespace Re6st.Agent.Babel;

/// <summary>What <see cref="BabeldProcess.Freeze"/> stands for when no babeld runs: nothing to resume.</summary>
public sealed class NotFrozen : IDisposable
{
    public static readonly NotFrozen Instance = new();

    private NotFrozen()
    {
    }

    public void Dispose()
    {
    }
}
