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
    public static readonly string StatusUsage = $"""
        usage: re6st status [--mesh M] [--watch | --json] [--kubeconfig F] [--context C] [--namespace NS]

          Each mesh from its MeshNodes: every host's arrows out and in, drains, routes against the
          live hosts homed in its sub-meshes, how long ago its agent wrote its status; the mesh's arrows by
          state and technology, hosts without arrows, routes per host against K·N^(1/K).

          --mesh M         that mesh only
          --watch          redraws it every 2 seconds
          --json           the figures as one JSON object
        {ClusterReader.KubeOptionsUsage}
        Also a kubectl plugin: with kubectl-re6st on the PATH, kubectl re6st status.
        """;

    public static readonly string CheckUsage = $"""
        usage: re6st check [--mesh M] [--json] [--kubeconfig F] [--context C] [--namespace NS]

          Whether the installation works, item by item (pass, warn, FAIL) with the reason and what
          to look at: the CRDs installed and this re6st's, an operator leading, and for each mesh:
          planned, its policy valid, every host's agent writing its status (at most
          {StatusHeartbeatSeconds} s old), an agent pod ready on each host (when the agents run as pods),
          babeld answering, every host with arrows, no part of the mesh cut off from the rest, each
          host routing to every live host homed in its sub-meshes, hand-overs under way.

          --mesh M         that mesh only
          --json           every item as one JSON object per line: name, outcome, reason, look, hosts
        {ClusterReader.KubeOptionsUsage}
        exit code: 0 nothing failed (warnings may be printed), 1 an item failed, 2 a usage error or
        no cluster to read
        """;

    public static readonly string GraphUsage = $"""
        usage: re6st graph [--mesh M] -o FILE.svg|FILE.dot|FILE.png [--kubeconfig F] [--context C]

          The live mesh as a picture, from its MeshNodes: a host per node coloured by its home
          sub-mesh, bridges ringed, the region (when the MeshNode carries it) as a label only; an
          arrow per line, coloured by technology, dashed while it drains. .svg is drawn here (hosts
          on a circle); .dot is Graphviz's text; .png needs Graphviz's dot on the PATH.

          --mesh M         the mesh to draw (needed when there is more than one)
          -o, --output F   where to write it; its extension chooses the format
        {ClusterReader.KubeOptionsUsage}
        """;

    private static readonly HashSet<string> StatusFlags = new(StringComparer.Ordinal) { "--watch", "--json", "--help" };
    private static readonly HashSet<string> CheckFlags = new(StringComparer.Ordinal) { "--json", "--help" };

    private static int StatusHeartbeatSeconds => (int)Re6st.Contracts.StatusHeartbeat.StaleAfter.TotalSeconds;

    public static async Task<int> StatusAsync(string[] args)
    {
        var a = new Arguments(args, Options, StatusFlags);
        if (a.Has("--help"))
        {
            Console.WriteLine(StatusUsage);
            return 0;
        }

        if (a.Has("--watch") && a.Has("--json"))
        {
            throw new UsageException("--watch redraws a table; --json prints once: choose one");
        }

        using var reader = ClusterReader.Open(a, CrdsCommand.RepositoryRoot());
        if (a.Has("--json"))
        {
            var view = await ReadAsync(reader, a.Text("--mesh"), CancellationToken.None);
            if (view is null)
            {
                return 2;
            }

            Console.WriteLine(JsonSerializer.Serialize(new { cluster = reader.Where, meshes = view.Meshes.Select(m => MeshReport.Build(m, view.Now).ToJson()) }));
            return 0;
        }

        return await Redraw.RunAsync(a.Has("--watch"), async token =>
            await ReadAsync(reader, a.Text("--mesh"), token) is { } view ? Render(reader.Where, [.. view.Meshes.Select(m => MeshReport.Build(m, view.Now))]) : null);
    }

    public static async Task<int> CheckAsync(string[] args)
    {
        var a = new Arguments(args, Options, CheckFlags);
        if (a.Has("--help"))
        {
            Console.WriteLine(CheckUsage);
            return 0;
        }

        using var reader = ClusterReader.Open(a, CrdsCommand.RepositoryRoot());
        var view = await ReadAsync(reader, a.Text("--mesh"), CancellationToken.None);
        if (view is null)
        {
            return 2;
        }

        var items = InstallationCheck.Run(view, reader.Namespace);
        foreach (var item in items)
        {
            Console.WriteLine(a.Has("--json")
                ? JsonSerializer.Serialize(new { name = item.Name, outcome = item.Outcome.ToString().ToLowerInvariant(), reason = item.Reason, look = item.Look, hosts = item.Hosts ?? [] })
                : item.ToString());
        }

        var failed = items.Count(i => i.Outcome == Outcome.Fail);
        if (!a.Has("--json"))
        {
            Console.WriteLine($"{reader.Where}: {items.Count} item(s), {failed} failed, {items.Count(i => i.Outcome == Outcome.Warn)} warning(s)");
        }

        return failed > 0 ? 1 : 0;
    }

    public static async Task<int> GraphAsync(string[] args)
    {
        var a = new Arguments(args.Select(x => x == "-o" ? "--output" : x), new HashSet<string>(Options, StringComparer.Ordinal) { "--output" }, new HashSet<string>(StringComparer.Ordinal) { "--help" });
        if (a.Has("--help"))
        {
            Console.WriteLine(GraphUsage);
            return 0;
        }

        var output = a.Text("--output") ?? throw new UsageException("name the file to write with -o FILE.svg, FILE.dot or FILE.png");
        var format = Path.GetExtension(output).ToLowerInvariant() switch
        {
            ".svg" => "svg",
            ".dot" or ".gv" => "dot",
            ".png" => "png",
            var other => throw new UsageException($"-o {output}: the extension chooses the format: .svg, .dot or .png{(other.Length > 0 ? $" (not {other})" : "")}"),
        };
        using var reader = ClusterReader.Open(a, CrdsCommand.RepositoryRoot());
        var view = await ReadAsync(reader, a.Text("--mesh"), CancellationToken.None);
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

    private static HashSet<string> Options => [.. ClusterReader.KubeOptions, "--mesh"];

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
            var technologies = r.ByTechnology.Count == 0 ? "" : $"; {string.Join(", ", r.ByTechnology.Select(t => $"{t.Key} {t.Value}"))}";
            text.AppendLine(CultureInfo.InvariantCulture, $"mesh {r.Mesh}: {r.Ready} · {r.Hosts.Count} host(s) · order {r.Order} · {r.SubMeshes} sub-mesh(es) · {r.Arrows} arrow(s) ({r.Draining} draining{technologies})");
            text.AppendLine(CultureInfo.InvariantCulture, $"routes per host: {r.RoutesMean:0.#} on average (K·N^(1/K) = {r.RoutesExpected:0.#}); hosts without arrows: {(r.WithoutArrows.Count == 0 ? "none" : string.Join(", ", r.WithoutArrows))}");
            var width = Math.Max(4, r.Hosts.Select(h => h.Host.Length).DefaultIfEmpty(0).Max());
            var subWidth = Math.Max(8, r.Hosts.Select(h => h.SubMeshes.Length).DefaultIfEmpty(0).Max());
            text.AppendLine(CultureInfo.InvariantCulture, $"{"host".PadRight(width)}  {"role",-7} {"sub-mesh".PadRight(subWidth)}  out  in  draining  routes/peers  status written");
            foreach (var h in r.Hosts)
            {
                var written = h switch
                {
                    { HasStatus: false } => "never",
                    { HeartbeatAge: { } age } => $"{age.TotalSeconds:0} s ago{(h.Stale ? " (stale)" : "")}",
                    _ => "no heartbeat",
                };
                var notes = new List<string>();
                if (h.HandsOver)
                {
                    notes.Add("handing over");
                }

                if (h.StandingIn.Count > 0)
                {
                    notes.Add($"standing in for {string.Join(", ", h.StandingIn)}");
                }

                text.AppendLine(CultureInfo.InvariantCulture, $"{h.Host.PadRight(width)}  {h.Role,-7} {h.SubMeshes.PadRight(subWidth)}  {h.Out,3}  {h.In,2}  {h.Draining,8}  {$"{(h.Routes is { } routes ? routes.ToString(CultureInfo.InvariantCulture) : "-")}/{h.Peers}",12}  {written}{(notes.Count > 0 ? $"  ({string.Join("; ", notes)})" : "")}");
            }
        }

        return text.ToString();
    }
}
