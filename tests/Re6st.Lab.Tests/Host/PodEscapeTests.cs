using Re6st.Agent.Host;

namespace Re6st.Lab.Tests.Host;

/// <summary>
/// Where an agent in a pod keeps its tunnel processes, read from /proc as the kernel writes it. The
/// files are copies in a temporary directory (what a pod of a real cluster sees is exercised by
/// RealClusterTests, whose agents adopt their tunnels after their pods are replaced).
/// </summary>
public sealed class PodEscapeTests : IDisposable
{
    private readonly string _proc = Directory.CreateTempSubdirectory("re6st-podescape-").FullName;

    [Fact]
    public void OutsideAPod_ProcessesOutliveTheAgentAsTheyAre()
    {
        Write("self/cgroup", "4:memory:/process_api/ae62\n0::/\n");
        var found = PodEscape.Detect(_proc);
        Assert.False(found.InPod);
        Assert.True(found.ProcessesOutliveAgent);
    }

    [Fact]
    public void InAPodWithItsOwnPidNamespace_TheTunnelsDieWithIt_AndItSaysWhy()
    {
        Write("self/cgroup", "4:memory:/r6a1-a/kubepods/besteffort/pod1/c1\n");
        Write("1/cgroup", "4:memory:/r6a1-a/kubepods/besteffort/pod1/c1\n");
        var found = PodEscape.Detect(_proc);
        Assert.True(found.InPod);
        Assert.False(found.ProcessesOutliveAgent);
        Assert.Contains("hostPID", found.Trapped, StringComparison.Ordinal);
    }

    [Fact]
    public void InAHostPidPod_TheTunnelsGoBesideTheKubeletsCgroups_InEveryHierarchy()
    {
        Write("self/cgroup", "5:cpuset:/r6a1-a/kubepods/besteffort/pod1/c1\n4:memory:/r6a1-a/kubepods/besteffort/pod1/c1\n1:name=systemd:/r6a1-a/kubepods/besteffort/pod1/c1\n0::/\n");
        Write("1/cgroup", "4:memory:/process_api/ae62\n");

        // The container's own /sys/fs/cgroup shows its own cgroup only (root is not "/"); the
        // host's tree comes from the chart's hostPath volume.
        var host = Path.Combine(_proc, "host");
        Write("self/mountinfo", $"""
            600 590 0:30 /r6a1-a/kubepods/besteffort/pod1/c1 /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
            700 690 0:26 / {host}/sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755
            701 700 0:27 / {host}/sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd
            704 700 0:30 / {host}/sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
            705 700 0:31 / {host}/sys/fs/cgroup/cpuset rw,nosuid - cgroup cgroup rw,cpuset
            706 700 0:32 / {host}/sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw
            """);
        Assert.Contains(PodEscape.HostCgroupRoot, PodEscape.Detect(_proc).Trapped, StringComparison.Ordinal);
        var escape = PodEscape.Detect(_proc, host + "/sys/fs/cgroup").Escape;
        Assert.NotNull(escape);
        Assert.Equal(
            [$"{host}/sys/fs/cgroup/cpuset/r6a1-a/re6st-tunnels", $"{host}/sys/fs/cgroup/memory/r6a1-a/re6st-tunnels", $"{host}/sys/fs/cgroup/systemd/r6a1-a/re6st-tunnels"],
            escape.Directories);

        // Keeping a process: each cgroup made beside kubepods, the process written into it.
        foreach (var hierarchy in new[] { "cpuset", "memory", "systemd" })
        {
            Write($"host/sys/fs/cgroup/{hierarchy}/r6a1-a/cgroup.procs", "");
        }

        escape.Keep(4242);
        Assert.All(escape.Directories, d => Assert.Equal("4242", File.ReadAllText(Path.Combine(d, "cgroup.procs"))));
    }

    public void Dispose() => Directory.Delete(_proc, recursive: true);

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_proc, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
