using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using k8s;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Lab;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;
using Re6st.Operator.Runtime;

namespace Re6st.Cli;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class BenchCommand
{
    public static Command Create()
    {
        var nodes = CliOptions.Number("--nodes", "N", "Node objects", 5000, 1, 100_000);
        var order = CliOptions.Number("--order", "K", "the Mesh's order", 2, 1, 3);
        var json = CliOptions.JsonFile();
        var operatorBench = new Command("operator", """
            The operator on a real API server: seconds until N hosts are planned, and its memory.

            Starts a real etcd + kube-apiserver on loopback, creates N Node objects, runs the operator
            as its own process, applies a Mesh selecting them, and measures the time until every
            MeshNode exists and the Mesh is Planned, and the operator's memory. Prints one JSON object.
            """).With(nodes, order, json);
        operatorBench.SetAction(async (r, token) =>
        {
            await PrintAsync(await OperatorAsync(r.GetValue(nodes), r.GetValue(order)), r.GetValue(json));
            return 0;
        });
        return new Command("bench", "Benchmarks that print figures as one JSON object: operator, lab, cluster, pods.")
            .With(operatorBench, LabBench.Create(), ClusterBench.Create(), PodsBench.Create());
    }

    /// <summary>A benchmark's one JSON object: on stdout, and in <paramref name="jsonPath"/> when given.</summary>
    public static async Task PrintAsync<T>(T result, string? jsonPath)
    {
        var json = JsonSerializer.Serialize(result, SimCommand.Json);
        Console.WriteLine(json);
        if (jsonPath is not null)
        {
            await File.WriteAllTextAsync(jsonPath, json + "\n");
        }
    }

    /// <summary>Root is needed: hosts are network namespaces (and, on real nodes, cgroups and containerd).</summary>
    public static void NeedRoot(string why)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new UsageException($"needs root: {why}");
        }
    }

    private static async Task<OperatorBench> OperatorAsync(int count, int order)
    {
        await using var progress = await StepProgress.StartAsync();
        void Step(string what) => progress.Step(what);

        Step("starting etcd and kube-apiserver (the first run builds kube-apiserver, about 5 minutes)");
        await using var server = new LocalApiServer(CrdsCommand.RepositoryRoot());
        await server.StartAsync();

        Step($"creating {count:N0} Node objects");
        var labels = new Dictionary<string, string> { ["re6st.io/mesh"] = "bench" };
        var created = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var node = new V1Node { Metadata = new V1ObjectMeta { Name = $"bench-{i:D6}", Labels = labels } };
            await server.Admin.CoreV1.CreateNodeAsync(node, cancellationToken: ct);
            if (Interlocked.Increment(ref created) % 1000 == 0)
            {
                Step($"  {created:N0} nodes");
            }
        });

        Step("starting the operator process");
        var log = Path.Combine(server.Directory, "operator.log");
        using var op = StartOperator(server.OperatorKubeconfig, log);
        try
        {
            var mesh = new V1Alpha1Mesh
            {
                Metadata = new V1ObjectMeta { Name = "bench" },
                Spec = new MeshSpecResource
                {
                    Ipv6Range = "fd5e:be::/40",
                    Ipv4Range = "10.128.0.0/12",
                    Order = order,
                    ExpectedNodes = order > 1 ? count : null,
                    NodeSelector = new LabelSelectorResource { MatchLabels = labels },
                },
            };
            var start = Stopwatch.StartNew();
            await server.Admin.CustomObjects.CreateClusterCustomObjectAsync(mesh, Group.Name, Group.Version, V1Alpha1Mesh.Plural);
            Step("Mesh applied; waiting until every MeshNode exists and the Mesh is Planned");
            V1Alpha1Mesh? seen = null;
            while (start.Elapsed < TimeSpan.FromMinutes(10))
            {
                if (op.HasExited)
                {
                    throw new InvalidOperationException("the operator exited:\n" + Tail(log));
                }

                seen = await server.Admin.CustomObjects.GetClusterCustomObjectAsync<V1Alpha1Mesh>(Group.Name, Group.Version, V1Alpha1Mesh.Plural, "bench");
                if (seen.Status?.Nodes == count && Conditions.IsTrue(seen.Status.Conditions, Conditions.Planned))
                {
                    break;
                }

                await Task.Delay(100);
            }

            var seconds = start.Elapsed.TotalSeconds;
            var meshNodes = await server.Admin.CustomObjects.ListClusterCustomObjectAsync<ResourceList<V1Alpha1MeshNode>>(
                Group.Name, Group.Version, V1Alpha1MeshNode.Plural, labelSelector: $"{Group.MeshLabel}=bench");
            if (meshNodes.Items.Count != count || seen?.Status?.Nodes != count)
            {
                throw new InvalidOperationException($"after {seconds:F0} s: {meshNodes.Items.Count} MeshNodes, mesh status {KubernetesJson.Serialize(seen?.Status)}\n{Tail(log)}");
            }

            Step($"ready after {seconds:F1} s");
            var (rss, peak) = Memory(op.Id);
            return new OperatorBench(count, order, Math.Round(seconds, 2), rss, peak, meshNodes.Items.Count, seen.Status!.SubMeshCount ?? 0, seen.Status.Bridges ?? 0);
        }
        finally
        {
            if (!op.HasExited)
            {
                op.Kill(entireProcessTree: true);
                await op.WaitForExitAsync();
            }
        }
    }

    private static Process StartOperator(string kubeconfig, string log) =>
        ProcessRunner.StartLogged(
            "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "re6st-operator.dll"), "--kubeconfig", kubeconfig, "--namespace", LocalApiServer.OperatorNamespace, "--no-leader-election", "--metrics", "off"],
            log);

    /// <summary>Current and peak resident memory of a process, in MB (from /proc).</summary>
    private static (double Rss, double Peak) Memory(int pid)
    {
        double Read(string key) => File.ReadLines($"/proc/{pid}/status")
            .Where(l => l.StartsWith(key + ":", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024)
            .Single();
        return (Math.Round(Read("VmRSS"), 1), Math.Round(Read("VmHWM"), 1));
    }

    private static string Tail(string file) => File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(30)) : "";
}

public sealed record OperatorBench(
    int Nodes,
    int Order,
    double SecondsToReady,
    double OperatorRssMB,
    double OperatorPeakRssMB,
    int MeshNodes,
    int SubMeshes,
    int Bridges);
