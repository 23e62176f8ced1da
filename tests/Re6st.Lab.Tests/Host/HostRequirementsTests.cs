using Re6st.Agent.Host;
using Re6st.Core.Policy;

namespace Re6st.Lab.Tests.Host;

public sealed class HostRequirementsTests
{
    [Fact]
    public async Task ThisMachine_AsTheTestsRunOnIt_HasEverything()
    {
        // The tests run as root with the Debian packages test.sh installs: what the lab's agents
        // need, nf_tables included (its kernel takes the drain's table; nothing is changed).
        var facts = await HostRequirements.ReadAsync(TunnelTechnology.All, CancellationToken.None);

        Assert.Null(facts.NfTablesRefusal);
        Assert.Empty(HostRequirements.Missing(facts, TunnelTechnology.All));
    }
}
