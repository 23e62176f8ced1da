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
    public void AKernelWithoutNfTables_IsNamedWithWhatNftSaid_AndNothingElse()
    {
        // What nft 1.0.6 prints when socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER) fails with
        // EPROTONOSUPPORT, as on a kernel without nfnetlink.
        var missing = HostRequirements.Missing(new(true, true, true, AllPrograms, "mnl.c:60: Unable to initialize Netlink socket: Protocol not supported"), TunnelTechnology.All);

        var lack = Assert.Single(missing);
        Assert.StartsWith("nf_tables in the kernel (the agent drains arrows with an nft table; nft said: mnl.c:60: Unable to initialize Netlink socket: Protocol not supported)", lack, StringComparison.Ordinal);
        Assert.Contains("CONFIG_NF_TABLES and CONFIG_NF_TABLES_INET", lack, StringComparison.Ordinal);
    }

    [Fact]
    public void NftsRefusal_IsQuotedByItsFirstLine_NotTheScriptItPointsInto()
    {
        // A refusal from the kernel itself: nft quotes the line and points into it.
        const string Refusal = """
            Error: Could not process rule: No such file or directory
              chain input { type filter hook input priority 0; iifname @draining udp dport 6696 drop; }
                    ^^^^^
            """;
        var lack = Assert.Single(HostRequirements.Missing(new(true, true, true, AllPrograms, Refusal), TunnelTechnology.All));

        Assert.Contains("nft said: Error: Could not process rule: No such file or directory)", lack, StringComparison.Ordinal);
        Assert.DoesNotContain("^", lack, StringComparison.Ordinal);
    }
}
