using Re6st.Runtime;

namespace Re6st.Lab;

/// <summary>The Kubernetes programs the labs and the tests run for real, prepared by tests/tools (built or fetched once, then cached).</summary>
public static class KubeTools
{
    /// <summary>
    /// The folder of kube-apiserver, kube-scheduler, kube-controller-manager, kubelet, kube-proxy,
    /// etcd and pause.c (tests/tools/kube-binaries.sh: the first run builds them, about 12 minutes).
    /// </summary>
    public static async Task<string> ProgramsAsync(string repository)
    {
        var (code, output) = await CommandRunner.RunAsync("bash", [Path.Combine(repository, "tests", "tools", "kube-binaries.sh")], TimeSpan.FromMinutes(40));
        return code == 0
            ? output.Trim().Split('\n')[^1].Trim()
            : throw new InvalidOperationException("the Kubernetes programs are not available: " + output);
    }

    /// <summary>Makes sure kubectl and helm are in the checkout's .tools/ (tests/tools/kube-tools.sh).</summary>
    public static async Task ClientsAsync(string repository)
    {
        var (code, output) = await CommandRunner.RunAsync("bash", [Path.Combine(repository, "tests", "tools", "kube-tools.sh")], TimeSpan.FromMinutes(10));
        if (code != 0)
        {
            throw new InvalidOperationException("kubectl and helm are not available: " + output);
        }
    }
}
