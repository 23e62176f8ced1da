namespace Re6st.Lab.Cluster;

public sealed record LabClusterOptions
{
    /// <summary>The checkout: crds/, config/, tests/tools/ and .tools/kubectl.</summary>
    public required string Repository { get; init; }

    /// <summary>The lab's own folder (.lab/ in the checkout): kubeconfig, logs, state, the API server's data.</summary>
    public required string Directory { get; init; }

    public int Nodes { get; init; } = 12;

    public int Order { get; init; } = 2;

    /// <summary>Seeds each agent's arrow draws (a fresh random seed per agent start when null).</summary>
    public ulong? Seed { get; init; }

    /// <summary>The operator program, run by dotnet.</summary>
    public string OperatorProgram { get; init; } = Path.Combine(AppContext.BaseDirectory, "re6st-operator.dll");

    public string Kubectl => Path.Combine(Repository, ".tools", "kubectl");
}
