using Re6st.Agent.Host;
using Re6st.Runtime;

namespace Re6st.Agent.Lifecycle;

/// <summary>
/// Drains an arrow through Babel without touching its data: Babel's own packets (UDP 6696) on that
/// interface are dropped, so the neighbour's cost climbs (link-quality) and routes move to other
/// arrows while packets still flow; once no installed route uses it, it is deleted. The
/// initiator's end drops both directions, which silences the arrow's Babel entirely; it does so
/// in the rhythm of <see cref="DrainPulse"/>, so babeld never forgets the neighbour while a route
/// still has no other way.
/// CAVEAT: babeld 1.12 cannot change a live interface's cost through its socket (an rxcost change
/// applies only after the interface goes down and up), which is why the drain works on packets.
/// </summary>
public sealed class BabelDrain(HostShell shell)
{
    private const string Table = "re6st";
    private const string Set = "draining";

    private static readonly string Script = $$"""
        table inet {{Table}} {
          set {{Set}} { type ifname; }
          chain input { type filter hook input priority 0; iifname @{{Set}} udp dport 6696 drop; }
          chain output { type filter hook output priority 0; oifname @{{Set}} udp dport 6696 drop; }
        }
        """;

    /// <summary>
    /// Asks the kernel whether it would take the drain's table in place of any table of that name,
    /// changing nothing: <c>nft --check</c> sends the batch, the kernel validates each message and
    /// aborts the transaction. A kernel without nf_tables refuses it (nfnetlink missing: nft cannot
    /// open its socket; the inet family missing: the kernel refuses the table). The table is
    /// added and deleted first, as <see cref="InitializeAsync"/> deletes it: a left table whose
    /// chains differ would refuse the new definition.
    /// </summary>
    public static Task<CommandResult> CheckAsync(HostShell shell, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(shell);
        return shell.RunAsync("nft", ["--check", $"add table inet {Table}\ndelete table inet {Table}\n{Script}"], cancellationToken: cancellationToken);
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await shell.RunAsync("nft", ["delete", "table", "inet", Table], cancellationToken: cancellationToken).ConfigureAwait(false);
        await shell.NftScriptAsync(Script, cancellationToken).ConfigureAwait(false);
    }

    public Task StartAsync(string interfaceName, CancellationToken cancellationToken) =>
        shell.RunCheckedAsync("nft", ["add", "element", "inet", Table, Set, "{", interfaceName, "}"], cancellationToken);

    public async Task StopAsync(string interfaceName, CancellationToken cancellationToken) =>
        await shell.RunAsync("nft", ["delete", "element", "inet", Table, Set, "{", interfaceName, "}"], cancellationToken: cancellationToken).ConfigureAwait(false);

    public async Task RemoveAsync(CancellationToken cancellationToken) =>
        await shell.RunAsync("nft", ["delete", "table", "inet", Table], cancellationToken: cancellationToken).ConfigureAwait(false);
}
