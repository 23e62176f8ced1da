namespace Re6st.Operator;

public sealed record OperatorOptions
{
    /// <summary>Where the operator keeps its Lease and the Babel key Secrets.</summary>
    public string Namespace { get; init; } = "re6st-system";

    /// <summary>This replica's name in the leader election (the pod name in a cluster).</summary>
    public string Identity { get; init; } = Environment.MachineName;

    public bool LeaderElection { get; init; } = true;

    public string LeaseName { get; init; } = "re6st-operator";

    /// <summary>Every mesh is reconciled at least this often, whatever the watches say.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Events for one mesh within this window give a single recompute.</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(300);

    public int Workers { get; init; } = 2;

    /// <summary>MeshNode writes in flight at once during one reconcile.</summary>
    public int WriteParallelism { get; init; } = 16;
}
