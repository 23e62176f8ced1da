using Re6st.Agent.Host;
using Re6st.Core.Addressing;
using Re6st.Core.Planning;

namespace Re6st.Agent.Lifecycle;

/// <summary>
/// What this host announces, made real in its kernel: babeld redistributes only prefixes the kernel
/// has a route for, so each prefix of the plan (the node's own, a bridge's aggregates) gets an
/// unreachable route of protocol static (more specific routes from Babel win over it), and the
/// node's first address of each prefix sits on lo so the host answers there. Prefixes a new plan
/// drops are withdrawn; a clean shutdown removes everything it added.
/// </summary>
public sealed class Announcements(HostShell shell)
{
    private readonly HashSet<IpPrefix> _routes = [];
    private readonly HashSet<string> _addresses = new(StringComparer.Ordinal);

    public async Task ApplyAsync(NodePlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var wanted = plan.Memberships.SelectMany(m => m.Announce).ToHashSet();
        foreach (var prefix in wanted.Where(p => !_routes.Contains(p)))
        {
            await shell.RunCheckedAsync("ip", [Family(prefix), "route", "replace", "unreachable", prefix.ToString(), "proto", "static"], cancellationToken).ConfigureAwait(false);
            _routes.Add(prefix);
        }

        foreach (var prefix in _routes.Where(p => !wanted.Contains(p)).ToList())
        {
            await shell.RunAsync("ip", [Family(prefix), "route", "del", "unreachable", prefix.ToString(), "proto", "static"], cancellationToken: cancellationToken).ConfigureAwait(false);
            _routes.Remove(prefix);
        }

        var addresses = new[] { plan.Ipv6Prefix, plan.Ipv4Prefix }.OfType<IpPrefix>().Select(HostAddress).ToHashSet(StringComparer.Ordinal);
        foreach (var address in addresses.Where(a => !_addresses.Contains(a)))
        {
            await shell.RunCheckedAsync("ip", ["address", "replace", address, "dev", "lo"], cancellationToken).ConfigureAwait(false);
            _addresses.Add(address);
        }

        foreach (var address in _addresses.Where(a => !addresses.Contains(a)).ToList())
        {
            await shell.RunAsync("ip", ["address", "del", address, "dev", "lo"], cancellationToken: cancellationToken).ConfigureAwait(false);
            _addresses.Remove(address);
        }
    }

    public async Task RemoveAsync(CancellationToken cancellationToken)
    {
        foreach (var prefix in _routes)
        {
            await shell.RunAsync("ip", [Family(prefix), "route", "del", "unreachable", prefix.ToString(), "proto", "static"], cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        foreach (var address in _addresses)
        {
            await shell.RunAsync("ip", ["address", "del", address, "dev", "lo"], cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        _routes.Clear();
        _addresses.Clear();
    }

    /// <summary>The prefix's first address (prefix::1, a.b.c.1) as a host route.</summary>
    public static string HostAddress(IpPrefix prefix) => new IpPrefix(prefix.Family, prefix.Address + 1, prefix.Width).ToString();

    private static string Family(IpPrefix prefix) => prefix.Family == IpFamily.V4 ? "-4" : "-6";
}
