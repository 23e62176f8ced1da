using k8s.Models;
using Re6st.Cli;
using Re6st.Lab;
using Re6st.Lab.Cluster;
using Re6st.Contracts;
using Re6st.Operator.Health;
using Re6st.Operator.Resources;
using Re6st.Runtime;

namespace Re6st.Simulation.Tests;

/// <summary>
/// What the commands show a person at a terminal (Spectre.Console: live progress, tables in
/// colour) against what they write to a pipe or a file (plain lines). The terminal is a real
/// pseudo-terminal: util-linux's script runs the program in one.
/// </summary>
public sealed class ConsoleOutputTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void Status_OnATerminal_IsATable_WithASilentHostInRed_AndThePlainTextSaysTheSame()
    {
        var report = MeshReport.Build(Mesh(), Now);

        var table = StatusTable.Render("the lab's kubeconfig", [report], 200);
        var plain = ClusterCommands.Render("the lab's kubeconfig", [report]);

        Assert.Contains("╭", table, StringComparison.Ordinal);
        Assert.Contains("\u001b[91mc\u001b[0m", table, StringComparison.Ordinal); // c's agent fell silent: red
        Assert.Contains("(stale)", table, StringComparison.Ordinal);
        foreach (var text in new[] { table, plain })
        {
            Assert.Contains("churn: destroyed 3 of 10 arrows drawn over 4 host-period(s) (30 %), 1 spared as most used; since the agents started, opened: random 5, small-mesh 1; removed: closed-by-peer 1, random 3", text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("\u001b[", plain, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void LabStatus_OnATerminal_IsATable_WithAHostWhoseAgentIsDownInRed_AndThePlainTextHasTheSameCells()
    {
        var state = new LabState { Lab = new LabProcess("lab", 1, "0"), RunId = "1a2b", Mesh = "lab", PrometheusPort = 9090, Kubeconfig = "/repo/.lab/kubeconfig" };
        var up = new MetricsText("""
            re6st_arrows{direction="initiated",state="active"} 3
            re6st_arrows{direction="accepted",state="active"} 2
            re6st_arrows{direction="initiated",state="draining"} 1
            re6st_routes_installed 9
            re6st_arrows_created_total{reason="random",technology="wireguard"} 14
            re6st_arrows_destroyed_total{reason="random",technology="wireguard"} 11
            re6st_drains_started_total 4
            """);
        var snapshot = new LabSnapshot(state, "mesh lab: Ready, 2 nodes, order 1, 1 sub-mesh(es), 0 bridges",
        [
            new LabSnapshot.HostRow(new LabNode("a", "re6st-1a2b-a", "eu-west", "u0", 9101, null), "root", "member", ["b"], up),
            new LabSnapshot.HostRow(new LabNode("b", "re6st-1a2b-b", "ap-south", "u0", 9102, null), "root", "member", [], null),
        ]);

        var table = StatusTable.RenderLab(snapshot, "/repo", 160);
        var plain = snapshot.Render("/repo");

        Assert.Equal(["a", "eu-west", "root", "member", "up", "4/2", "1", "9", "14", "11", "4"], LabSnapshot.Cells(snapshot.Hosts[0]));
        Assert.Equal(["b", "ap-south", "root", "member", "DOWN", "-/-", "-", "-", "-", "-", "-"], LabSnapshot.Cells(snapshot.Hosts[1]));
        Assert.Contains("╭", table, StringComparison.Ordinal);
        Assert.Contains("\u001b[91mDOWN\u001b[0m", table, StringComparison.Ordinal);
        Assert.Contains("a     eu-west   root      member  up     4/2            1         9       14       11         4", plain, StringComparison.Ordinal);
        foreach (var text in new[] { table, plain })
        {
            Assert.Contains("lab 1a2b · mesh lab: Ready", text, StringComparison.Ordinal);
            Assert.Contains("churn so far: 14 arrows created, 11 destroyed (random 11), 4 drains started", text, StringComparison.Ordinal);
            Assert.Contains("  a   · >", text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("\u001b[", plain, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Sim_ShowsLiveProgressOnATerminal_AndPlainLinesInAPipe()
    {
        string[] sim = ["sim", "--nodes", "300", "--order", "2", "--pairs", "20", "--scenario-pairs", "20", "--churn-periods", "1"];
        var program = Path.Combine(AppContext.BaseDirectory, "re6st.dll");

        var piped = await CommandRunner.RunAsync("dotnet", [program, .. sim], TimeSpan.FromMinutes(2));
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.Contains("s] routing tables", piped.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", piped.Error, StringComparison.Ordinal);

        // script(1) gives the program a terminal on stdin, stdout and stderr, and copies it all out.
        var line = string.Join(' ', new[] { "dotnet", program }.Concat(sim).Select(a => $"'{a}'"));
        var terminal = await CommandRunner.RunAsync("env", ["TERM=xterm-256color", "COLUMNS=120", "script", "-qefc", line, "/dev/null"], TimeSpan.FromMinutes(2));
        Assert.True(terminal.ExitCode == 0, terminal.ToString());
        Assert.Contains("routing tables", terminal.Output, StringComparison.Ordinal);
        Assert.Contains("\u001b[", terminal.Output, StringComparison.Ordinal); // drawn, not printed
        Assert.DoesNotContain("s] routing tables", terminal.Output, StringComparison.Ordinal);
        Assert.Contains("re6st sim: 300 nodes, order 2", terminal.Output, StringComparison.Ordinal);
    }

    // Three hosts: a and b write their status, c's agent fell silent 5 minutes ago.
    private static MeshView Mesh()
    {
        var nodes = new[] { "a", "b", "c" }.Select(h => new V1Alpha1MeshNode
        {
            Metadata = new V1ObjectMeta { Name = $"{h}.m" },
            Spec = new MeshNodeSpec { Mesh = "m", Node = h, HomeSubMesh = "root", Memberships = [new MembershipResource { SubMesh = "root" }] },
            Status = new MeshNodeStatus
            {
                Heartbeat = StatusHeartbeat.Format(Now - TimeSpan.FromSeconds(h == "c" ? 300 : 5)),
                Routes = 2,
                Arrows = [new ArrowStatusResource { Id = h, Peer = h == "a" ? "b" : "a", SubMesh = "root", Initiated = true, State = "active", Technology = "wireguard", Port = 51820 }],
                Churn = h == "c" ? null : new ChurnStatusResource
                {
                    Periods = 2,
                    Drawn = 5,
                    Destroyed = h == "a" ? 2 : 1,
                    Spared = h == "a" ? 1 : 0,
                    Created = h == "a" ? new() { ["random"] = 3, ["small-mesh"] = 1 } : new() { ["random"] = 2 },
                    Removed = h == "a" ? new() { ["random"] = 2, ["closed-by-peer"] = 1 } : new() { ["random"] = 1 },
                },
            },
        }).ToList();
        var mesh = new V1Alpha1Mesh { Metadata = new V1ObjectMeta { Name = "m" }, Status = new MeshStatus { Conditions = [new Condition { Type = "Ready", Status = "True", Reason = "Routed" }] } };
        return new MeshView(mesh, "default", null, nodes);
    }
}
