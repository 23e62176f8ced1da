using System.Globalization;
using System.Text;
using k8s;
using Re6st.Contracts;
using Re6st.Operator.Resources;
using Re6st.Operator.Runtime;

namespace Re6st.Lab.Cluster;

/// <summary>
/// A running lab at one moment: the Mesh's status, each host's MeshNode and what its agent's
/// metrics say (arrows, routes, churn by reason). What <c>lab status</c> and <c>lab up</c> print.
/// </summary>
public sealed record LabSnapshot(LabState State, string MeshLine, IReadOnlyList<LabSnapshot.HostRow> Hosts)
{
    /// <summary>One host: its place in the mesh, and its agent's figures (null when its metrics do not answer).</summary>
    public sealed record HostRow(LabNode Node, string SubMeshes, string Role, IReadOnlyList<string> OpenedTo, MetricsText? Metrics)
    {
        public IReadOnlyDictionary<string, double> Destroyed => Metrics?.By("re6st_arrows_destroyed_total", "reason") ?? new Dictionary<string, double>();
    }

    public static async Task<IReadOnlyList<V1Alpha1MeshNode>> MeshNodesAsync(Kubernetes client, string mesh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var list = await client.CustomObjects.ListClusterCustomObjectAsync<ResourceList<V1Alpha1MeshNode>>(
            Group.Name, Group.Version, V1Alpha1MeshNode.Plural, labelSelector: $"{Group.MeshLabel}={mesh}", cancellationToken: cancellationToken);
        return [.. list.Items.OrderBy(n => n.Spec.Node, StringComparer.Ordinal)];
    }

    /// <summary>Null when the Mesh is Ready; else what its Ready condition says (or that it has none yet).</summary>
    public static async Task<string?> ReadyAsync(Kubernetes client, string mesh, CancellationToken cancellationToken)
    {
        var ready = (await ReadMeshAsync(client, mesh, cancellationToken)).Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        return ready switch
        {
            { Status: "True" } => null,
            null => "no Ready condition yet",
            _ => $"{ready.Reason}: {ready.Message}",
        };
    }

    public static async Task<LabSnapshot> ReadAsync(LabState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(state.Kubeconfig));
        var mesh = await ReadMeshAsync(client, state.Mesh!, cancellationToken);
        var meshNodes = (await MeshNodesAsync(client, state.Mesh!, cancellationToken)).ToDictionary(n => n.Spec.Node, StringComparer.Ordinal);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var rows = await Task.WhenAll(state.Nodes.Select(async node =>
        {
            MetricsText? metrics = null;
            try
            {
                metrics = await MetricsText.ScrapeAsync(http, new Uri($"http://{node.MetricsHost}:{node.MetricsPort}/metrics"), cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // The agent is gone or not serving: the row says so.
            }

            var meshNode = meshNodes.GetValueOrDefault(node.Name);
            var subMeshes = meshNode is null ? "-" : string.Join(',', meshNode.Spec.Memberships.Select(m => m.SubMesh));
            var opened = meshNode?.Status?.Arrows?.Where(a => a.Initiated).Select(a => a.Peer).ToList() ?? [];
            return new HostRow(node, subMeshes, meshNode?.Spec.Role ?? "(no MeshNode)", opened, metrics);
        }));

        var ready = mesh.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        var line = $"mesh {state.Mesh}: {(ready is { Status: "True" } ? "Ready" : $"not Ready ({ready?.Reason}: {ready?.Message})")}, "
            + $"{mesh.Status?.Nodes ?? 0} nodes, order {mesh.Spec.Order ?? 1}, {mesh.Status?.SubMeshCount ?? 1} sub-mesh(es), {mesh.Status?.Bridges ?? 0} bridges";
        return new LabSnapshot(state, line, rows);
    }

    /// <summary>The columns of the hosts' table (<see cref="Cells"/> gives a row's).</summary>
    public static IReadOnlyList<string> Columns { get; } = ["host", "region", "sub-mesh", "role", "agent", "arrows out/in", "draining", "routes", "created", "destroyed", "drains"];

    /// <summary>"lab 1a2b · mesh lab: Ready, 10 nodes, ...".</summary>
    public string Title => $"lab {State.RunId} · {MeshLine}";

    /// <summary>A host's row: its place in the mesh and its agent's figures ("DOWN" and "-" when its metrics do not answer).</summary>
    public static IReadOnlyList<string> Cells(HostRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var m = row.Metrics;
        string Figure(double? v) => v is { } x ? x.ToString("0", CultureInfo.InvariantCulture) : "-";
        return
        [
            row.Node.Name,
            row.Node.Region,
            row.SubMeshes,
            row.Role,
            m is null ? "DOWN" : "up",
            $"{Figure(m?.Value("re6st_arrows", ("direction", "initiated")))}/{Figure(m?.Value("re6st_arrows", ("direction", "accepted")))}",
            Figure(m?.Value("re6st_arrows", ("state", "draining"))),
            Figure(m?.Value("re6st_routes_installed")),
            Figure(m?.Value("re6st_arrows_created_total")),
            Figure(m?.Value("re6st_arrows_destroyed_total")),
            Figure(m?.Value("re6st_drains_started_total")),
        ];
    }

    /// <summary>The title, the hosts' table as plain text, and <see cref="Details"/>.</summary>
    public string Render(string repository)
    {
        var rows = Hosts.Select(Cells).ToList();
        var widths = Columns.Select((c, i) => rows.Select(r => r[i].Length).Append(c.Length).Max()).ToList();
        string Line(IReadOnlyList<string> cells) => string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
        var text = new StringBuilder();
        text.AppendLine(Title);
        text.AppendLine();
        text.AppendLine(Line(Columns));
        foreach (var row in rows)
        {
            text.AppendLine(Line(row));
        }

        return text.Append(Details(repository)).ToString();
    }

    /// <summary>What follows the hosts' table: the churn so far, a picture of who opened arrows to whom, and where to look next.</summary>
    public string Details(string repository)
    {
        var text = new StringBuilder();
        var reasons = Hosts.SelectMany(h => h.Destroyed).GroupBy(r => r.Key).Select(g => (Reason: g.Key, Count: g.Sum(r => r.Value))).Where(r => r.Count > 0).OrderByDescending(r => r.Count).ToList();
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"churn so far: {Hosts.Sum(h => h.Metrics?.Value("re6st_arrows_created_total") ?? 0):0} arrows created, "
            + $"{reasons.Sum(r => r.Count):0} destroyed{(reasons.Count > 0 ? $" ({string.Join(", ", reasons.Select(r => $"{r.Reason} {r.Count:0}"))})" : "")}, "
            + $"{Hosts.Sum(h => h.Metrics?.Value("re6st_drains_started_total") ?? 0):0} drains started");

        text.AppendLine();
        text.AppendLine("arrows (> opened by the row's host to the column's, < the other way, = both):");
        var names = Hosts.Select(h => h.Node.Name).ToList();
        var opened = Hosts.ToDictionary(h => h.Node.Name, h => h.OpenedTo.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        text.AppendLine("      " + string.Join(' ', names.Select(n => n.PadRight(1))));
        foreach (var from in names)
        {
            var cells = names.Select(to => (opened[from].Contains(to), opened[to].Contains(from)) switch
            {
                _ when from == to => "·",
                (true, true) => "=",
                (true, false) => ">",
                (false, true) => "<",
                _ => " ",
            });
            text.AppendLine(CultureInfo.InvariantCulture, $"  {from,-3} {string.Join(' ', cells)}");
        }

        var directory = Path.GetRelativePath(repository, Path.GetDirectoryName(State.Kubeconfig)!);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Prometheus  http://127.0.0.1:{State.PrometheusPort}/  (alerts: /alerts; try sum by (reason) (increase(re6st_arrows_destroyed_total[5m])))");
        text.AppendLine(CultureInfo.InvariantCulture, $"kubectl     {Path.GetRelativePath(repository, Path.Combine(repository, ".tools", "kubectl"))} --kubeconfig {Path.Combine(directory, "kubeconfig")} get meshes,meshnodes");
        text.AppendLine(State.Kind == LabKind.RealNodes
            ? $"pods        {Path.GetRelativePath(repository, Path.Combine(repository, ".tools", "kubectl"))} --kubeconfig {Path.Combine(directory, "kubeconfig")} get pods -A -o wide (logs: kubectl -n re6st-system logs <pod>)"
            : $"logs        {Path.Combine(directory, "logs")}/ (operator.log, agent-<host>.log)");
        return text.ToString();
    }

    private static Task<V1Alpha1Mesh> ReadMeshAsync(Kubernetes client, string mesh, CancellationToken cancellationToken) =>
        client.CustomObjects.GetClusterCustomObjectAsync<V1Alpha1Mesh>(Group.Name, Group.Version, V1Alpha1Mesh.Plural, mesh, cancellationToken);
}
