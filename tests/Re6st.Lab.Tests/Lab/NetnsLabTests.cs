using System.Diagnostics;
using System.Security.Cryptography;
using Xunit.Abstractions;

using Re6st.Lab.Netns;

namespace Re6st.Lab.Tests.Lab;

// Alone: the debris it plants would otherwise be swept by labs of tests running alongside.
[Collection(nameof(NetnsLabTests))]
[CollectionDefinition(nameof(NetnsLabTests), DisableParallelization = true)]
public sealed class NetnsLabTests(ITestOutputHelper output)
{
    [Fact(Timeout = 60_000)]
    public async Task Create_RemovesTheDebrisOfARunWhoseOwnerIsDead_AndKeepsARunWhoseOwnerLives()
    {
        var dead = NetnsLab.Family + RandomNumberGenerator.GetHexString(5, lowercase: true);
        var live = NetnsLab.Family + RandomNumberGenerator.GetHexString(5, lowercase: true);
        Process? leftover = null;
        try
        {
            // A crashed run: its owner PID is gone, a process still runs in its namespace.
            Directory.CreateDirectory($"/run/re6st-lab/{dead}");
            await File.WriteAllTextAsync($"/run/re6st-lab/{dead}/owner", "2147483646 1");
            await Command.RunAsync("ip", ["netns", "add", $"{dead}-z"]);
            leftover = Process.Start("ip", ["netns", "exec", $"{dead}-z", "sleep", "60"]);

            // A run of a live test process (this one): it must survive another lab's sweep.
            Directory.CreateDirectory($"/run/re6st-lab/{live}");
            await File.WriteAllTextAsync($"/run/re6st-lab/{live}/owner", NetnsLab.OwnerLine());
            await Command.RunAsync("ip", ["netns", "add", $"{live}-z"]);

            await using (var lab = await NetnsLab.CreateAsync(output.WriteLine))
            {
                var namespaces = await NetnsLab.NamespacesAsync();
                Assert.DoesNotContain($"{dead}-z", namespaces);
                Assert.False(Directory.Exists($"/run/re6st-lab/{dead}"));
                Assert.True(leftover.WaitForExit(TimeSpan.FromSeconds(5)), "the process left in the dead run's namespace was not killed");
                Assert.Contains($"{live}-z", namespaces);
            }
        }
        finally
        {
            leftover?.Dispose();
            foreach (var run in new[] { dead, live })
            {
                await Command.RunAsync("ip", ["netns", "delete", $"{run}-z"], check: false);
                if (Directory.Exists($"/run/re6st-lab/{run}"))
                {
                    Directory.Delete($"/run/re6st-lab/{run}", recursive: true);
                }
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Dispose_RemovesEveryNamespaceAndFileOfTheRun()
    {
        var lab = await NetnsLab.CreateAsync(output.WriteLine);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        var (ab, _) = await lab.LinkAsync(a, b);
        Assert.Contains(ab, (await lab.IpAsync(a, "link", "show")).Output, StringComparison.Ordinal);
        Assert.Equal(2, (await NetnsLab.NamespacesAsync()).Count(ns => ns.StartsWith(lab.RunId, StringComparison.Ordinal)));

        await lab.DisposeAsync();
        Assert.DoesNotContain(await NetnsLab.NamespacesAsync(), ns => ns.StartsWith(lab.RunId, StringComparison.Ordinal));
        Assert.False(Directory.Exists(lab.Directory));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => lab.IpAsync(a, "link"));
    }
}
