using System.Text.RegularExpressions;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;
using Re6st.Lab.Kube;
using Re6st.Testing;
using Xunit.Abstractions;

namespace Re6st.Lab.Tests.RealNodes;

/// <summary>
/// Each image the lab builds, started through Testcontainers on a podman service (no Docker engine
/// here): its program is there, runs on the image's Debian, and says what is wrong the way a pod's
/// status will show it. Alone: publishing the operator for its image takes the machine's cores.
/// </summary>
[Collection(nameof(ImageSmokeTests))]
[CollectionDefinition(nameof(ImageSmokeTests), DisableParallelization = true)]
public sealed class ImageSmokeTests(ITestOutputHelper output)
{
    private static readonly CancellationToken None = CancellationToken.None;

    // The native re6st-agent the lab's build publishes next to the tests (as the real-node lab uses it).
    private static readonly string AgentProgram = Path.Combine(AppContext.BaseDirectory, "agent", "re6st-agent");

    [Fact(Timeout = 600_000)]
    public async Task TheAgentImage_RefusesABadCommandLine_AndNamesWhatItsHostLacks_ButNoProgram()
    {
        var started = DateTime.UtcNow;
        await using var podman = await PodmanService.StartAsync(Say, None);
        var image = await LabImages.AgentAsync(Repository.Root, AgentProgram, Path.Combine(podman.Directory, "images"), LabImages.DefaultCache, Say, None);
        await podman.LoadAsync(image, None);

        var (code, stdout, stderr) = await RunToExitAsync(Container(podman, image).WithCommand("--no-such-option"));
        Assert.Equal(2, code);
        Assert.Contains("re6st-agent: --no-such-option: unknown option", stderr, StringComparison.Ordinal);
        Assert.Contains("usage: re6st-agent --node NAME --underlay ADDRESS", stderr, StringComparison.Ordinal);

        // A valid command line in a container without privileges (no NET_ADMIN, no /dev/net/tun, a
        // read-only /proc/sys): the agent stops before touching anything and names each lack.
        (code, stdout, stderr) = await RunToExitAsync(Container(podman, image).WithCommand("--node", "a", "--underlay", "192.0.2.1", "--in-cluster"));
        var logs = stdout + stderr;
        Assert.Equal(3, code);
        Assert.Contains("this host lacks what the agent needs", logs, StringComparison.Ordinal);
        Assert.Contains("the NET_ADMIN capability", logs, StringComparison.Ordinal);
        Assert.Contains("/dev/net/tun", logs, StringComparison.Ordinal);
        Assert.Contains("a writable /proc/sys", logs, StringComparison.Ordinal);

        // The image carries every program the agent runs (ip, nft, babeld, pkill, wg): none is missing.
        Assert.DoesNotContain("the program '", logs, StringComparison.Ordinal);

        // Without NET_ADMIN nft is not asked about nf_tables: it would fail for the reason already named.
        Assert.DoesNotContain("nf_tables", logs, StringComparison.Ordinal);

        // What the chart gives the agent (NET_ADMIN, /dev/net/tun, a writable /proc/sys: podman's
        // unmask=ALL): nothing lacks, and the agent goes on to find no cluster. So nft's check of
        // the drain's table passes in such a container.
        ContainerBuilder Equipped(params string[] securityOptions) => Container(podman, image)
            .WithCommand("--node", "a", "--underlay", "192.0.2.1", "--in-cluster")
            .WithCreateParameterModifier(p =>
            {
                var host = p.HostConfig ??= new();
                host.CapAdd = ["NET_ADMIN"];
                host.Devices = [new() { PathOnHost = "/dev/net/tun", PathInContainer = "/dev/net/tun", CgroupPermissions = "rwm" }];
                host.SecurityOpt = ["unmask=ALL", .. securityOptions];
            });
        (code, stdout, stderr) = await RunToExitAsync(Equipped());
        logs = stdout + stderr;
        Assert.Equal(1, code);
        Assert.DoesNotContain("lacks what the agent needs", logs, StringComparison.Ordinal);
        Assert.Contains("not in a cluster", logs, StringComparison.Ordinal);

        // The same under a seccomp profile that makes socket(AF_NETLINK, *, NETLINK_NETFILTER)
        // fail with EPROTONOSUPPORT, as on a kernel without nfnetlink: nf_tables alone is named,
        // with what nft said. Podman 4.3's Docker API takes a profile's path in SecurityOpt, not
        // its JSON as Docker's does (it would open the JSON as a file name); the service sees the
        // run's folder.
        var profile = Path.Combine(podman.Directory, "no-nfnetlink.json");
        await File.WriteAllTextAsync(profile, NoNfnetlinkProfile);
        (code, stdout, stderr) = await RunToExitAsync(Equipped($"seccomp={profile}"));
        logs = stdout + stderr;
        Assert.Equal(3, code);
        var lack = Assert.Single(logs.Split('\n'), l => l.StartsWith("  - ", StringComparison.Ordinal));
        Assert.StartsWith("  - nf_tables in the kernel (the agent drains arrows with an nft table; nft said: mnl.c:", lack, StringComparison.Ordinal);
        Assert.Contains("Unable to initialize Netlink socket: Protocol not supported", lack, StringComparison.Ordinal);
        Assert.Contains("CONFIG_NF_TABLES and CONFIG_NF_TABLES_INET", lack, StringComparison.Ordinal);
        Say($"done in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
    }

    [Fact(Timeout = 600_000)]
    public async Task TheOperatorImage_RefusesABadCommandLine_AndUnderTheChartsRestrictionsServesItsMetricsWithoutAnApiServer()
    {
        var started = DateTime.UtcNow;
        await using var podman = await PodmanService.StartAsync(Say, None);
        var image = await LabImages.OperatorAsync(Repository.Root, Path.Combine(podman.Directory, "images"), LabImages.DefaultCache, Say, None);
        await podman.LoadAsync(image, None);

        var (code, _, stderr) = await RunToExitAsync(Container(podman, image).WithCommand("--no-such-option"));
        Assert.Equal(2, code);
        Assert.Contains("re6st-operator: unknown argument '--no-such-option'", stderr, StringComparison.Ordinal);
        Assert.Contains("usage: re6st-operator", stderr, StringComparison.Ordinal);

        // As the chart runs it: the image's user (65532), a read-only root with /tmp writable, no
        // capability, leader election on; with no API server to reach, it serves its metrics and
        // keeps trying to read its lease.
        await using var operatorContainer = Container(podman, image)
            .WithCommand("--metrics", "0.0.0.0:9653")
            .WithTmpfsMount("/tmp")
            .WithCreateParameterModifier(p =>
            {
                var host = p.HostConfig ??= new();
                host.ReadonlyRootfs = true;
                host.CapDrop = ["ALL"];
                host.SecurityOpt = ["no-new-privileges"];
            })
            .WithWaitStrategy(Wait.ForUnixContainer().UntilInternalTcpPortIsAvailable(9653, w => w.WithTimeout(TimeSpan.FromSeconds(60))))
            .Build();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await operatorContainer.StartAsync(deadline.Token);
        Say("the operator listens on 9653");

        // The image has no HTTP client; bash's /dev/tcp is one. The process is PID 1 of the container.
        var scrape = await operatorContainer.ExecAsync(
            ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9653 && printf 'GET /metrics HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && cat <&3"], deadline.Token);
        Assert.True(scrape.ExitCode == 0, $"GET /metrics exited {scrape.ExitCode}: {scrape.Stderr}");
        Assert.Matches(@"^HTTP/1\.[01] 200 ", scrape.Stdout);
        Assert.Contains("# TYPE re6st_operator_leader gauge", scrape.Stdout, StringComparison.Ordinal);

        // It does not lead (no lease read yet), and wrote nothing.
        Assert.Contains("\nre6st_operator_leader 0", scrape.Stdout, StringComparison.Ordinal);
        Assert.Contains("\nre6st_operator_writes_total 0", scrape.Stdout, StringComparison.Ordinal);
        var status = await operatorContainer.ExecAsync(["cat", "/proc/1/status"], deadline.Token);
        Assert.Matches(@"\nUid:\s+65532\s", status.Stdout);
        Assert.Matches(@"\nCapEff:\s+0+\n", status.Stdout);

        // It says why it cannot work, and keeps trying.
        async Task<string> LogsAsync()
        {
            var (stdout, stderr) = await operatorContainer.GetLogsAsync(timestampsEnabled: false, ct: deadline.Token);
            return stdout + stderr;
        }

        string logs;
        while (Regex.Count(logs = await LogsAsync(), "cannot read the lease re6st-system/re6st-operator: .*; trying again in 2 s") < 2)
        {
            await Task.Delay(200, deadline.Token);
        }

        Assert.Contains("Connection refused", logs, StringComparison.Ordinal);
        Assert.True(operatorContainer.State == TestcontainersStates.Running, $"the operator stopped: {operatorContainer.State}");
        Say($"the operator's logs:\n{logs}");
        Say($"done in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
    }

    /// <summary>
    /// Allows every call but socket(AF_NETLINK = 16, *, NETLINK_NETFILTER = 12), which fails with
    /// EPROTONOSUPPORT (93): what a kernel without nfnetlink answers. Two conditions in one rule both hold.
    /// </summary>
    private const string NoNfnetlinkProfile = """
        {
          "defaultAction": "SCMP_ACT_ALLOW",
          "syscalls": [
            {
              "names": ["socket"],
              "action": "SCMP_ACT_ERRNO",
              "errnoRet": 93,
              "args": [
                { "index": 0, "value": 16, "op": "SCMP_CMP_EQ" },
                { "index": 2, "value": 12, "op": "SCMP_CMP_EQ" }
              ]
            }
          ]
        }
        """;

    private static ContainerBuilder Container(PodmanService podman, LabImage image) =>
        new ContainerBuilder(image.Reference)
            .WithDockerEndpoint(podman.Endpoint)

            // No Ryuk, Testcontainers' reaper: it is an image pinned by digest in a registry this
            // machine does not reach, and every container goes with the service's run anyway.
            .WithCleanUp(false)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithCreateParameterModifier(p =>
            {
                // The service's own network namespace: no bridge, no iptables, no namespace file
                // in /run/netns for a container.
                var host = p.HostConfig ??= new();
                host.NetworkMode = "host";
                host.CgroupParent = podman.CgroupParent;
            });

    /// <summary>Runs a container whose program is expected to exit within a minute: its exit code and output.</summary>
    private async Task<(long Code, string Stdout, string Stderr)> RunToExitAsync(ContainerBuilder builder)
    {
        await using var container = builder.Build();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await container.StartAsync(deadline.Token);
        var code = await container.GetExitCodeAsync(deadline.Token);
        var (stdout, stderr) = await container.GetLogsAsync(timestampsEnabled: false, ct: deadline.Token);
        Say($"exit code {code}; stdout:\n{stdout}stderr:\n{stderr}");
        return (code, stdout, stderr);
    }

    private void Say(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // Background output after the test finished has nowhere to go.
        }
    }
}
