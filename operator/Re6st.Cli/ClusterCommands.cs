using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Re6st.Operator.Health;

namespace Re6st.Cli;

/// <summary>
/// <c>re6st status</c> and <c>re6st check</c>: a cluster's re6st installation read from its API
/// server (any kubeconfig; <see cref="ClusterReader"/>), shown (<see cref="MeshReport"/>) and
/// judged (<see cref="InstallationCheck"/>).
/// </summary>
public static class ClusterCommands
{
    private static int StatusHeartbeatSeconds => (int)Re6st.Contracts.StatusHeartbeat.StaleAfter.TotalSeconds;

    public static Command Status()
    {
        var kube = new KubeOptions();
        var mesh = MeshOption("that mesh only");
        var watch = CliOptions.Flag("--watch", "redraws it every 2 seconds");
        var json = CliOptions.Flag("--json", "the figures as one JSON object");
        var command = new Command("status", """
            A cluster's meshes, hosts and arrows, from any kubeconfig.

            A cluster's meshes from their MeshNodes, from any kubeconfig: every host's arrows out and
            in, drains, routes against the live hosts homed in its sub-meshes, how long ago its agent
            wrote its status; the mesh's arrows by state and technology, hosts without arrows, routes
            per host against K·N^(1/K). Also a kubectl plugin: kubectl re6st status.
            """).With([mesh, watch, json, .. kube.All]);
        command.SetAction((r, token) => StatusAsync(kube.Open(r), r.GetValue(mesh), r.GetValue(watch), r.GetValue(json)));
        return command;
    }

    public static Command Check()
    {
        var kube = new KubeOptions();
        var mesh = MeshOption("that mesh only");
        var json = CliOptions.Flag("--json", "every item as one JSON object per line: name, outcome, reason, look, hosts");
        var command = new Command("check", $"""
            Whether a cluster's re6st works, item by item; exit code 1 when an item fails.

            Whether a cluster's re6st works, item by item (pass, warn, FAIL) with the reason and what
            to look at: the CRDs installed and this re6st's, an operator leading, and for each mesh:
            planned, its policy valid, every host's agent writing its status (at most
            {StatusHeartbeatSeconds} s old), an agent pod ready on each host (when the agents run as
            pods), babeld answering, every host with arrows, no part of the mesh cut off from the
            rest, each host routing to every live host homed in its sub-meshes, hand-overs under way.
            Exit code: 0 nothing failed (warnings may be printed), 1 an item failed, 2 a usage error
            or no cluster to read.
            """).With([mesh, json, .. kube.All]);
        command.SetAction((r, token) => CheckAsync(kube.Open(r), r.GetValue(mesh), r.GetValue(json)));
        return command;
    }

    public static Command Graph()
    {
        var kube = new KubeOptions();
        var mesh = MeshOption("the mesh to draw (needed when there is more than one)");
        var output = CliOptions.Text("--output", "FILE", "where to write it; its extension chooses the format: .svg, .dot or .png", "-o");
        output.Required = true;
        var command = new Command("graph", """
            A picture of a cluster's live mesh: SVG, DOT or PNG.

            The live mesh as a picture, from its MeshNodes: a host per node coloured by its home
            sub-mesh, bridges ringed, its Node's region (topology.kubernetes.io/region) as a label only; an
            arrow per line, coloured by technology, dashed while it drains. .svg is drawn here (hosts
            on a circle); .dot is Graphviz's text; .png needs Graphviz's dot on the PATH.
            """).With([mesh, output, .. kube.All]);
        command.SetAction((r, token) => GraphAsync(r, kube, r.GetValue(mesh), r.GetValue(output)!));
        return command;
    }

    private static Option<string> MeshOption(string description) => CliOptions.Text("--mesh", "M", description);

    private static async Task<int> StatusAsync(ClusterReader opened, string? mesh, bool watch, bool json)
    {
        if (watch && json)
        {
            throw new UsageException("--watch redraws a table; --json prints once: choose one");
        }

        using var reader = opened;
        if (json)
        {
            var view = await ReadAsync(reader, mesh, CancellationToken.None);
            if (view is null)
            {
                return 2;
            }

            Console.WriteLine(JsonSerializer.Serialize(new { cluster = reader.Where, meshes = view.Meshes.Select(m => MeshReport.Build(m, view.Now).ToJson()) }));
            return 0;
        }

        // A table on a terminal (StatusTable), plain text in a pipe or a file.
        return await Redraw.RunAsync(watch, async token =>
            await ReadAsync(reader, mesh, token) is not { } view
                ? null
                : Console.IsOutputRedirected
                    ? Render(reader.Where, [.. view.Meshes.Select(m => MeshReport.Build(m, view.Now))])
                    : StatusTable.Render(reader.Where, [.. view.Meshes.Select(m => MeshReport.Build(m, view.Now))], Console.WindowWidth));
    }

    private static async Task<int> CheckAsync(ClusterReader opened, string? mesh, bool json)
    {
        using var reader = opened;
        var view = await ReadAsync(reader, mesh, CancellationToken.None);
        if (view is null)
        {
            return 2;
        }

        var items = InstallationCheck.Run(view, reader.Namespace);
        foreach (var item in items)
        {
            Console.WriteLine(json
                ? JsonSerializer.Serialize(new { name = item.Name, outcome = item.Outcome.ToString().ToLowerInvariant(), reason = item.Reason, look = item.Look, hosts = item.Hosts ?? [] })
                : item.ToString());
        }

        var failed = items.Count(i => i.Outcome == Outcome.Fail);
        if (!json)
        {
            Console.WriteLine($"{reader.Where}: {items.Count} item(s), {failed} failed, {items.Count(i => i.Outcome == Outcome.Warn)} warning(s)");
        }

        return failed > 0 ? 1 : 0;
    }

    private static async Task<int> GraphAsync(ParseResult result, KubeOptions kube, string? meshName, string output)
    {
        var format = Path.GetExtension(output).ToLowerInvariant() switch
        {
            ".svg" => "svg",
            ".dot" or ".gv" => "dot",
            ".png" => "png",
            var other => throw new UsageException($"-o {output}: the extension chooses the format: .svg, .dot or .png{(other.Length > 0 ? $" (not {other})" : "")}"),
        };
        using var reader = kube.Open(result);
        var view = await ReadAsync(reader, meshName, CancellationToken.None);
        if (view is null)
        {
            return 2;
        }

        var mesh = view.Meshes.Count switch
        {
            0 => throw new UsageException("there is no Mesh to draw"),
            1 => view.Meshes[0],
            _ => throw new UsageException($"--mesh: name the mesh to draw, one of {string.Join(", ", view.Meshes.Select(m => m.Name))}"),
        };
        switch (format)
        {
            case "svg":
                await File.WriteAllTextAsync(output, MeshGraph.Svg(mesh));
                break;
            case "dot":
                await File.WriteAllTextAsync(output, MeshGraph.Dot(mesh));
                break;
            default:
                var dot = Path.Combine(Path.GetTempPath(), $"re6st-graph-{Environment.ProcessId}.dot");
                await File.WriteAllTextAsync(dot, MeshGraph.Dot(mesh));
                try
                {
                    var drawn = await Re6st.Runtime.CommandRunner.RunAsync("dot", ["-Tpng", "-o", output, dot], TimeSpan.FromMinutes(1));
                    if (drawn.ExitCode != 0)
                    {
                        Console.Error.WriteLine($"re6st graph: Graphviz's dot failed: {drawn.Error.Trim()}");
                        return 1;
                    }
                }
                catch (System.ComponentModel.Win32Exception)
                {
                    throw new UsageException(".png needs Graphviz's dot on the PATH (apt install graphviz); .svg needs nothing");
                }
                finally
                {
                    File.Delete(dot);
                }

                break;
        }

        var (hosts, edges) = MeshGraph.Read(mesh);
        Console.WriteLine($"wrote {output}: mesh {mesh.Name}, {hosts.Count} host(s), {edges.Count} arrow(s)");
        return 0;
    }

    /// <summary>The installation, or null (and why on stderr) when the API server cannot be read.</summary>
    private static async Task<ClusterView?> ReadAsync(ClusterReader reader, string? mesh, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadAsync(mesh, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            Console.Error.WriteLine($"cannot reach the API server of {reader.Where}: {e.Message}");
        }
        catch (k8s.Autorest.HttpOperationException e)
        {
            Console.Error.WriteLine($"the API server of {reader.Where} refused a read: {(int)e.Response.StatusCode} {e.Response.StatusCode} {e.Response.Content}");
        }

        return null;
    }

    /// <summary>The text of <c>re6st status</c>.</summary>
    public static string Render(string where, IReadOnlyList<MeshReport> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"cluster: {where}");
        if (reports.Count == 0)
        {
            text.AppendLine("no Mesh");
        }

        foreach (var r in reports)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"mesh {r.Mesh}: {r.Ready} · {r.Shape}");
            text.AppendLine(CultureInfo.InvariantCulture, $"{r.RoutesSummary}; hosts without arrows: {(r.WithoutArrows.Count == 0 ? "none" : string.Join(", ", r.WithoutArrows))}");
            if (r.Churn.Describe() is { } churn)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"churn: {churn}");
            }

            var width = Math.Max(4, r.Hosts.Select(h => h.Host.Length).DefaultIfEmpty(0).Max());
            var subWidth = Math.Max(8, r.Hosts.Select(h => h.SubMeshes.Length).DefaultIfEmpty(0).Max());
            text.AppendLine(CultureInfo.InvariantCulture, $"{"host".PadRight(width)}  {"role",-7} {"sub-mesh".PadRight(subWidth)}  out  in  draining  routes/peers  status written");
            foreach (var h in r.Hosts)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{h.Host.PadRight(width)}  {h.Role,-7} {h.SubMeshes.PadRight(subWidth)}  {h.Out,3}  {h.In,2}  {h.Draining,8}  {h.RoutesAgainstPeers,12}  {h.Written}{(h.Notes.Length > 0 ? $"  ({h.Notes})" : "")}");
            }
        }

        return text.ToString();
    }
}
