using System.Diagnostics;
using Re6st.Lab.Kube;

namespace Re6st.Cli;

/// <summary>
/// <c>re6st bench cluster</c>: what <c>re6st lab up</c> costs on real nodes. Brings up the real-node
/// lab (control plane, N nodes, images, helm install), prints when each step ended, and the
/// resident memory of each node's programs and of the control plane once the mesh is whole; then
/// removes it all.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class ClusterBench
{
    public const string Usage = """
               re6st bench cluster [--nodes N] [--settle S] [--json FILE]

          Brings up the real-node lab of `re6st lab up` (control plane, N real nodes, images built
          here, helm install) and prints one JSON object: seconds from the start until the images
          are built, the API server answers, every node is Ready, every re6st pod runs and every
          pair of hosts pings over the mesh; then, S seconds later, the resident memory (MiB) of
          each node's kubelet, containerd, kube-proxy, shims and re6st pods, and of the control
          plane's programs. Needs root. Removes everything it made.

          --nodes N    real nodes (default 10)
          --settle S   seconds between the mesh being whole and the memory reading (default 60)
          --json FILE  also write the JSON to FILE

        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var a = new Arguments(args, new HashSet<string> { "--nodes", "--settle", "--json", "--repository" }, new HashSet<string> { "--help" });
        if (a.Has("--help"))
        {
            Console.WriteLine(BenchCommand.Usage);
            return 0;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            Console.Error.WriteLine("re6st bench cluster: needs root (network namespaces, cgroups, containerd)");
            return 1;
        }

        var nodes = a.Number("--nodes", 10, 2, 26);
        var settle = a.Number("--settle", 60, 0, 3600);
        var clock = Stopwatch.StartNew();
        void Step(string what) => Console.Error.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1}s] {what}");
        await using var cluster = await RealCluster.StartAsync(
            new RealClusterOptions { Repository = a.Text("--repository") ?? CrdsCommand.RepositoryRoot(), Nodes = nodes },
            Step,
            _ => { },
            CancellationToken.None);
        Step($"the mesh is whole; reading memory in {settle} s");
        await Task.Delay(TimeSpan.FromSeconds(settle));
        var (perNode, controlPlane) = await cluster.FootprintAsync();
        var kinds = perNode.Values.SelectMany(n => n.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        await BenchCommand.PrintAsync(
            new ClusterBenchResult(
                nodes,
                Environment.ProcessorCount,
                cluster.Timeline,
                kinds.ToDictionary(k => k, k => Math.Round(perNode.Values.Average(n => n.GetValueOrDefault(k)), 1)),
                kinds.ToDictionary(k => k, k => perNode.Values.Max(n => n.GetValueOrDefault(k))),
                controlPlane,
                Math.Round(clock.Elapsed.TotalSeconds, 1)),
            a);
        return 0;
    }
}

/// <summary>The figures of <c>re6st bench cluster</c>.</summary>
/// <param name="SecondsTo">Seconds from the start to each step (imagesBuilt, controlPlaneAnswers, nodesRegistered, podsRunning, nodesReady: Ready once their agents wrote the pod network, allPairsPing).</param>
/// <param name="NodeMemoryMeanMiB">Resident MiB per node by kind, the mean over nodes.</param>
/// <param name="NodeMemoryMaxMiB">The same, the largest node.</param>
/// <param name="ControlPlaneMemoryMiB">Resident MiB of each control-plane program.</param>
public sealed record ClusterBenchResult(
    int Nodes,
    int Cores,
    IReadOnlyDictionary<string, double> SecondsTo,
    IReadOnlyDictionary<string, double> NodeMemoryMeanMiB,
    IReadOnlyDictionary<string, double> NodeMemoryMaxMiB,
    IReadOnlyDictionary<string, double> ControlPlaneMemoryMiB,
    double ElapsedSeconds);
