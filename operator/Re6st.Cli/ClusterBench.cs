using System.CommandLine;
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
    public static Command Create()
    {
        var nodes = CliOptions.Number("--nodes", "N", "real nodes", 10, 2, 26);
        var settle = CliOptions.Number("--settle", "S", "seconds between the mesh being whole and the memory reading", 60, 0, 3600);
        var json = CliOptions.JsonFile();
        var repository = CliOptions.Repository();
        var command = new Command("cluster", """
            What `re6st lab up` costs on real nodes: time per step and memory per program.

            Brings up the real-node lab of `re6st lab up` (control plane, N real nodes, images built
            here, helm install) and prints one JSON object: seconds from the start until the images
            are built, the API server answers, every node is Ready, every re6st pod runs and every
            pair of hosts pings over the mesh; then, S seconds later, the resident memory (MiB) of
            each node's kubelet, containerd, kube-proxy, shims and re6st pods, and of the control
            plane's programs. Needs root. Removes everything it made.
            """).With(nodes, settle, json, repository);
        command.SetAction((r, token) => RunAsync(r.GetValue(nodes), r.GetValue(settle), r.RepositoryOf(repository), r.GetValue(json)));
        return command;
    }

    private static async Task<int> RunAsync(int nodes, int settle, string repository, string? jsonPath)
    {
        BenchCommand.NeedRoot("network namespaces, cgroups, containerd");
        var clock = Stopwatch.StartNew();
        await using var progress = await StepProgress.StartAsync();
        void Step(string what) => progress.Step(what);
        await using var cluster = await RealCluster.StartAsync(
            new RealClusterOptions { Repository = repository, Nodes = nodes },
            Step,
            _ => { },
            CancellationToken.None);
        Step($"the mesh is whole; reading memory in {settle} s");
        await Task.Delay(TimeSpan.FromSeconds(settle));
        var (perNode, controlPlane) = await cluster.FootprintAsync();
        var kinds = perNode.Values.SelectMany(n => n.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        await progress.DisposeAsync();
        await BenchCommand.PrintAsync(
            new ClusterBenchResult(
                nodes,
                Environment.ProcessorCount,
                cluster.Timeline,
                kinds.ToDictionary(k => k, k => Math.Round(perNode.Values.Average(n => n.GetValueOrDefault(k)), 1)),
                kinds.ToDictionary(k => k, k => perNode.Values.Max(n => n.GetValueOrDefault(k))),
                controlPlane,
                Math.Round(clock.Elapsed.TotalSeconds, 1)),
            jsonPath);
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
