using System.CommandLine;

namespace Re6st.Cli;

/// <summary>
/// Which cluster a command reads, as kubectl chooses it: <c>--kubeconfig</c>, <c>--context</c>,
/// and <c>--namespace</c> where re6st is installed (<see cref="ClusterReader.Open"/> has the defaults).
/// </summary>
public sealed class KubeOptions
{
    public Option<string> Kubeconfig { get; } = CliOptions.Text(
        "--kubeconfig", "F", "the cluster's kubeconfig (default: $KUBECONFIG, else the lab's when one runs, else ~/.kube/config, else the pod's service account)");

    public Option<string> Context { get; } = CliOptions.Text("--context", "C", "a context of that kubeconfig other than its current one");

    public Option<string> Namespace { get; } = CliOptions.Text("--namespace", "NS", "where re6st is installed: its operator's Lease and pods (default re6st-system)");

    public Symbol[] All => [Kubeconfig, Context, Namespace];

    /// <summary>A reader for the cluster the command line names.</summary>
    public ClusterReader Open(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return ClusterReader.Open(result.GetValue(Kubeconfig), result.GetValue(Context), result.GetValue(Namespace), CrdsCommand.RepositoryRoot());
    }
}
