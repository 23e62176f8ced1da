using System.CommandLine;
using Command = System.CommandLine.Command;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Re6st.Lab;
using Re6st.Lab.Cluster;
using Re6st.Lab.Kube;
using Re6st.Lab.Netns;

namespace Re6st.Cli;

/// <summary>
/// <c>re6st lab up | status | down</c>: the whole system on this machine. <c>up</c> starts the lab's
/// own process in the background (<c>lab serve</c>, in a session of its own) and follows its
/// progress; that process owns the API server, the operator, the hosts and Prometheus, and removes
/// them when <c>down</c> tells it to. Its state file lets <c>down</c> remove everything even after
/// that process died.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class LabCommand
{
    private const string Progress = "==> ";
    private static readonly TimeSpan UpTimeout = TimeSpan.FromMinutes(20);

    public static Command Create()
    {
        var up = Up("up", """
            Runs the whole system on this machine, installed by its Helm chart, until `lab down`.

            A real Kubernetes cluster on this machine: a control plane (etcd, kube-apiserver,
            controller-manager, scheduler) and N real nodes (containerd, kubelet, kube-proxy, each in
            network namespaces of its own) in 3 regions; the operator's and the agent's images built
            here; re6st installed with helm install of helm/re6st, so the operator and every agent run
            as pods; and Prometheus. Returns once every pair of hosts pings over the mesh. Needs root.
            """, UpAsync);
        var serve = Up("serve", "the lab's own process, which `up` starts in the background", ServeAsync);
        serve.Hidden = true;

        var (statusDir, statusRepository) = (Folder(), CliOptions.Repository());
        var watch = CliOptions.Flag("--watch", "redraws it every 2 seconds");
        var json = CliOptions.Flag("--json", "nodes, readyNodes, agentPods, agentPodsRunning, operatorPodsRunning, pairs and reachablePairs, for scripts");
        var status = new Command("status", """
            The lab's hosts, arrows, churn and reachability.

            Arrows per host, churn by reason, drains, routing-table sizes, who opened arrows to whom,
            and every pair of hosts pinged over the mesh as it runs.
            """).With(watch, json, statusDir, statusRepository);
        status.SetAction((r, token) => r.GetValue(watch) && r.GetValue(json)
            ? throw new UsageException("--watch and --json: one or the other")
            : StatusAsync(Place(r, statusDir, statusRepository), r.GetValue(watch), r.GetValue(json)));

        var (downDir, downRepository) = (Folder(), CliOptions.Repository());
        var down = new Command("down", "Removes every namespace, cgroup, link, process and file the lab made (also after a crash).")
            .With(downDir, downRepository);
        down.SetAction(async (r, token) => await DownAsync(Place(r, downDir, downRepository).Directory) ? 0 : 1);

        return new Command("lab", "The whole system on this machine: re6st lab up, then status, then down.").With(up, serve, status, down);
    }

    private static Option<string> Folder() => CliOptions.Text("--dir", "DIR", "the lab's folder: kubeconfig, logs, state (default .lab in the checkout)");

    /// <summary>The lab's checkout and folder, with the sizes <c>up</c> does not need.</summary>
    private static LabClusterOptions Place(ParseResult r, Option<string> dir, Option<string> repository)
    {
        var root = r.RepositoryOf(repository);
        return new LabClusterOptions { Repository = root, Directory = Path.GetFullPath(r.GetValue(dir) ?? Path.Combine(root, ".lab")) };
    }

    /// <summary><c>lab up</c>, and <c>lab serve</c> which <c>up</c> starts with the same options.</summary>
    private static Command Up(string name, string description, Func<LabClusterOptions, bool, Task<int>> run)
    {
        var nodes = CliOptions.Number("--nodes", "N", "hosts; default 4, 12 with --processes", null, 2, 26);
        var order = CliOptions.Number("--order", "K", "the Mesh's order; default 1 on real nodes, 2 with --processes (two sub-meshes joined by bridges)", null, 1, 3);
        var processes = CliOptions.Flag("--processes", "the lighter lab: no kubelet or container; a kube-apiserver, the operator and each host's agent run as processes of the lab (config/samples/ applied)");
        var seed = CliOptions.Seed("seed of the agents' arrow draws (--processes only; default: fresh at each start)", null);
        var (dir, repository) = (Folder(), CliOptions.Repository());
        var command = new Command(name, description).With(nodes, order, processes, seed, dir, repository);
        command.SetAction((r, token) =>
        {
            var light = r.GetValue(processes);
            if (r.Typed(seed) && !light)
            {
                throw new UsageException("--seed: only with --processes (the agents in pods draw with a fresh seed)");
            }

            return run(
                Place(r, dir, repository) with
                {
                    Nodes = r.Typed(nodes) ? r.GetValue(nodes) : light ? 12 : 4,
                    Order = r.Typed(order) ? r.GetValue(order) : light ? 2 : 1,
                    Seed = r.Typed(seed) ? r.GetValue(seed) : null,
                },
                light);
        });
        return command;
    }

    private static async Task<int> UpAsync(LabClusterOptions options, bool processes)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.Error.WriteLine("re6st lab up: needs root (network namespaces, tunnels, babeld, apt-get)");
            return 1;
        }

        if (LabState.Read(options.Directory) is { } existing)
        {
            if (existing.Lab.IsAlive)
            {
                Console.Error.WriteLine($"re6st lab up: a lab runs already ({existing.Phase.ToString().ToLowerInvariant()}, {options.Directory}); `./re6st lab down` first");
                return 1;
            }

            Console.WriteLine("removing what an earlier lab left behind");
            await DownAsync(options.Directory);
        }

        Console.WriteLine("checking what this machine needs (Debian packages, the Kubernetes programs, kubectl, helm)");
        foreach (var script in new[] { "packages.sh", "kube-binaries.sh", "kube-tools.sh" })
        {
            if (await RunVisibleAsync("bash", [Path.Combine(options.Repository, "tests", "tools", script)]) != 0)
            {
                Console.Error.WriteLine($"re6st lab up: tests/tools/{script} failed");
                return 1;
            }
        }

        // The lab runs a copy of this program: a rebuild of the checkout while it runs must not
        // rewrite the files its processes have mapped.
        foreach (var old in new[] { "logs", "prometheus", "api", "bin" })
        {
            if (Directory.Exists(Path.Combine(options.Directory, old)))
            {
                Directory.Delete(Path.Combine(options.Directory, old), recursive: true);
            }
        }

        var bin = Path.Combine(options.Directory, "bin");
        CopyFolder(AppContext.BaseDirectory, bin);
        var log = Path.Combine(options.Directory, "lab.log");
        File.WriteAllText(log, "");
        string[] serve =
        [
            Path.Combine(bin, "re6st.dll"), "lab", "serve", "--dir", options.Directory, "--repository", options.Repository,
            "--nodes", options.Nodes.ToString(CultureInfo.InvariantCulture), "--order", options.Order.ToString(CultureInfo.InvariantCulture),
            .. options.Seed is { } seed ? ["--seed", seed.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(),
            .. processes ? ["--processes"] : Array.Empty<string>(),
        ];
        ProcessRunner.StartDetached("dotnet", serve, log);
        Console.WriteLine($"starting the lab: {options.Nodes} {(processes ? "hosts with the agent as a process" : "real Kubernetes nodes")}, order {options.Order} (details in {log})");

        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupted.Cancel();
        };
        LabState? state;
        await using (var progress = await StepProgress.StartAsync())
        {
            state = await FollowAsync(options.Directory, log, progress, interrupted.Token);
        }

        if (state is not { Phase: LabPhase.Ready })
        {
            if (interrupted.IsCancellationRequested)
            {
                Console.Error.WriteLine("interrupted: removing the lab");
                await DownAsync(options.Directory);
                return 130;
            }

            Console.Error.WriteLine($"re6st lab up: the lab did not come up: {state?.Error ?? "its process died"}");
            Console.Error.WriteLine($"last lines of {log}:");
            foreach (var line in File.ReadLines(log).TakeLast(25))
            {
                Console.Error.WriteLine("  " + line);
            }

            Console.Error.WriteLine("removing what it made");
            await DownAsync(options.Directory);
            return 1;
        }

        Console.WriteLine();
        Console.Write(Show(await LabSnapshot.ReadAsync(state, CancellationToken.None), options.Repository));
        Console.WriteLine();
        Console.WriteLine("watch it: ./re6st lab status --watch · stop it: ./re6st lab down");
        return 0;
    }

    /// <summary>Shows the lab process's progress lines until it is Ready, failed, died, or the user interrupts.</summary>
    private static async Task<LabState?> FollowAsync(string directory, string log, StepProgress progress, CancellationToken interrupted)
    {
        var deadline = DateTime.UtcNow + UpTimeout;
        var noState = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        using var reader = new StreamReader(new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        LabState? state = null;
        while (true)
        {
            while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
            {
                if (line.StartsWith(Progress, StringComparison.Ordinal))
                {
                    progress.Step(line[Progress.Length..]);
                }
            }

            state = LabState.Read(directory);
            if (state is { Phase: LabPhase.Ready or LabPhase.Failed } || state is not null && !state.Lab.IsAlive)
            {
                return state;
            }

            if (state is null && DateTime.UtcNow > noState)
            {
                return null;
            }

            if (interrupted.IsCancellationRequested || DateTime.UtcNow > deadline)
            {
                return state is null ? null : state with { Error = interrupted.IsCancellationRequested ? "interrupted" : $"not Ready within {UpTimeout.TotalMinutes:F0} minutes" };
            }

            await Task.Delay(250, CancellationToken.None);
        }
    }

    /// <summary>The lab's own process: brings the lab up, keeps it until SIGTERM (or SIGINT), then removes it.</summary>
    private static async Task<int> ServeAsync(LabClusterOptions options, bool processes)
    {
        var self = LabProcess.Of("lab", Environment.ProcessId);
        new LabState { Lab = self, Phase = LabPhase.Starting, Kind = processes ? LabKind.Processes : LabKind.RealNodes }.Write(options.Directory);
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        IAsyncDisposable lab;
        Func<LabPhase, LabState> state;
        try
        {
            void Say(string line) => Console.WriteLine(Progress + line);
            if (processes)
            {
                var cluster = await LabCluster.StartAsync(options, Say, Console.WriteLine, stop.Token);
                (lab, state) = (cluster, phase => cluster.State(self, phase));
            }
            else
            {
                var real = await RealCluster.StartAsync(
                    new RealClusterOptions { Repository = options.Repository, Nodes = options.Nodes, Order = options.Order, PrometheusPort = LabCluster.PortOr(9090) },
                    Say,
                    Console.WriteLine,
                    stop.Token);
                var kubeconfig = Path.Combine(options.Directory, "kubeconfig");
                File.Copy(real.Kubeconfig, kubeconfig, overwrite: true);
                File.SetUnixFileMode(kubeconfig, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                (lab, state) = (real, phase => real.State(self, phase, kubeconfig));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.WriteLine(e);
            new LabState { Lab = self, Phase = LabPhase.Failed, Error = stop.IsCancellationRequested ? "stopped while starting" : e.Message }.Write(options.Directory);
            return 1;
        }

        state(LabPhase.Ready).Write(options.Directory);
        Console.WriteLine(Progress + "ready");
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Told to stop.
        }

        state(LabPhase.Stopping).Write(options.Directory);
        Console.WriteLine(Progress + (processes ? "stopping: agents, operator, Prometheus, API server, namespaces" : "stopping: nodes (their pods with them), Prometheus, control plane, namespaces"));
        try
        {
            await lab.DisposeAsync();
        }
        catch (AggregateException e)
        {
            // The state stays: `lab down` finishes the job by force.
            Console.WriteLine(e);
            return 1;
        }

        File.Delete(LabState.PathIn(options.Directory));
        Console.WriteLine(Progress + "stopped");
        return 0;
    }

    private static async Task<int> StatusAsync(LabClusterOptions options, bool watch, bool json)
    {
        var state = LabState.Read(options.Directory);
        if (state is null)
        {
            Console.Error.WriteLine($"no lab in {options.Directory}: start one with ./re6st lab up");
            return 1;
        }

        if (!state.Lab.IsAlive)
        {
            Console.Error.WriteLine($"the lab's process is gone ({state.Phase.ToString().ToLowerInvariant()}{(state.Error is { } error ? $": {error}" : "")}); ./re6st lab down removes what is left");
            return 1;
        }

        if (state.Phase != LabPhase.Ready)
        {
            Console.Error.WriteLine($"the lab is {state.Phase.ToString().ToLowerInvariant()}; progress in {Path.Combine(options.Directory, "lab.log")}");
            return 1;
        }

        if (json)
        {
            Console.WriteLine((await LabStatus.ReadAsync(state, CancellationToken.None)).ToJson());
            return 0;
        }

        return await Redraw.RunAsync(watch, async token => Show(await LabSnapshot.ReadAsync(state, token), options.Repository));
    }

    /// <summary>The lab's snapshot as a table on a terminal (<see cref="StatusTable.RenderLab"/>), as plain text in a pipe or a file.</summary>
    private static string Show(LabSnapshot snapshot, string repository) =>
        Console.IsOutputRedirected ? snapshot.Render(repository) : StatusTable.RenderLab(snapshot, repository, Console.WindowWidth);

    /// <summary>Removes the lab (<see cref="LabTeardown"/>), saying what it does; true when nothing is left.</summary>
    public static async Task<bool> DownAsync(string directory)
    {
        var errors = await LabTeardown.RemoveAsync(directory, Console.WriteLine);
        if (errors.Count > 0)
        {
            Console.Error.WriteLine($"re6st lab down: could not remove everything: {string.Join("; ", errors)}");
            return false;
        }

        return true;
    }

    private static async Task<int> RunVisibleAsync(string file, IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        // Their progress (stderr) reaches the terminal; what they print on stdout is a path for scripts.
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
