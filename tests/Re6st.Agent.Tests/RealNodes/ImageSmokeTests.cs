using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;
using Re6st.Lab.Kube;
using Re6st.Operator.Tests.Fixtures;
using Xunit.Abstractions;

namespace Re6st.Agent.Tests.RealNodes;

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
    public async Task TheAgentImage_RefusesABadCommandLine_AndUnprivilegedNamesWhatItsHostLacks_ButNoProgram()
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
        // capability; with no API server to reach, it keeps listing and serves its metrics. Leader
        // election is off: with it, an unreachable API server ends the operator at its first read of
        // the lease (an unhandled HttpRequestException, exit code 139).
        await using var operatorContainer = Container(podman, image)
            .WithCommand("--no-leader-election", "--metrics", "0.0.0.0:9653")
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

        // Without leader election it reconciles at once (its lists are retried meanwhile); it wrote nothing.
        Assert.Contains("\nre6st_operator_leader 1", scrape.Stdout, StringComparison.Ordinal);
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
        while (!(logs = await LogsAsync()).Contains("list/watch failed, listing again", StringComparison.Ordinal))
        {
            await Task.Delay(200, deadline.Token);
        }

        Assert.Contains("Connection refused", logs, StringComparison.Ordinal);
        Say($"the operator's logs:\n{logs}");
        Say($"done in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
    }

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
