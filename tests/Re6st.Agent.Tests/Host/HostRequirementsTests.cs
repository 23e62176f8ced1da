using Re6st.Agent.Host;
using Re6st.Core.Policy;

namespace Re6st.Agent.Tests.Host;

public sealed class HostRequirementsTests
{
    private static readonly HashSet<string> AllPrograms = ["ip", "nft", "babeld", "pkill", "wg"];

    [Fact]
    public void AHostWithEverything_LacksNothing() =>
        Assert.Empty(HostRequirements.Missing(new(true, true, true, AllPrograms), TunnelTechnology.All));

    [Fact]
    public void AnUnprivilegedContainer_IsToldEachThingItLacks_AndWhatToDo()
    {
        var missing = HostRequirements.Missing(new(false, false, false, AllPrograms), TunnelTechnology.All);

        Assert.Equal(3, missing.Count);
        Assert.Contains(missing, m => m.Contains("NET_ADMIN", StringComparison.Ordinal) && m.Contains("agent.privileged", StringComparison.Ordinal));
        Assert.Contains(missing, m => m.StartsWith("/dev/net/tun", StringComparison.Ordinal));
        Assert.Contains(missing, m => m.Contains("/proc/sys", StringComparison.Ordinal) && m.Contains("babeld", StringComparison.Ordinal));
    }

    [Fact]
    public void AMissingProgram_IsNamed_AndOpenVpnIsNotRequired()
    {
        var missing = HostRequirements.Missing(new(true, true, true, new HashSet<string> { "ip", "babeld", "pkill", "wg" }), TunnelTechnology.All);

        Assert.Equal(["the program 'nft' on PATH (the agent's image installs it)"], missing);
    }

    [Fact]
    public void ThisMachine_AsTheTestsRunOnIt_HasEverything()
    {
        // The tests run as root with the Debian packages test.sh installs: what the lab's agents need.
        Assert.Empty(HostRequirements.Missing(HostRequirements.Read(TunnelTechnology.All), TunnelTechnology.All));
    }
}
