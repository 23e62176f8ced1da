using Re6st.Lab.Netns;
using Re6st.Runtime;
using Xunit.Abstractions;

namespace Re6st.Integration.Tests.Monitoring;

/// <summary>promtool (Debian package prometheus), which test.sh installs: required in CI.</summary>
internal static class Promtool
{
    private const string Missing = "promtool is missing (Debian package prometheus; test.sh installs it)";

    /// <summary>
    /// Whether promtool can run. Without it the test fails in CI (CI=true); elsewhere it says loudly
    /// that the check was left out, and the caller returns.
    /// </summary>
    public static bool Available(ITestOutputHelper output)
    {
        if (CommandRunner.OnPath("promtool"))
        {
            return true;
        }

        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", Missing);
        var warning = $"WARNING: {Missing}: this check did NOT run";
        output.WriteLine(warning);
        Console.Error.WriteLine(warning);
        return false;
    }

    public static async Task AssertSucceedsAsync(params string[] args)
    {
        var result = await Command.RunAsync("promtool", args, TimeSpan.FromSeconds(60), check: false);
        Assert.True(result.Succeeded, result.ToString());
    }
}
