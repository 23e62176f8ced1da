using System.Globalization;
using Re6st.Core.Policy;

namespace Re6st.Agent.Host;

/// <summary>
/// What the agent needs from its host before it touches anything, checked at start so that a pod
/// missing one of them ends with a message naming it (the chart's terminationMessagePolicy puts
/// it in the pod's status) instead of looping without a reason: the NET_ADMIN capability, the tun
/// device, a writable /proc/sys (babeld sets forwarding and rp_filter at every start), and the
/// programs every host runs.
/// </summary>
public static class HostRequirements
{
    /// <summary>What the host offers, as read by <see cref="Read"/>.</summary>
    public sealed record Facts(bool NetAdmin, bool TunDevice, bool ProcSysWritable, IReadOnlySet<string> Programs);

    /// <summary>Each missing requirement, with what to do about it; empty when all are met.</summary>
    public static IReadOnlyList<string> Missing(Facts facts, TunnelTechnology technologies)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var missing = new List<string>();
        if (!facts.NetAdmin)
        {
            missing.Add("the NET_ADMIN capability (tunnels, routes, nft): run the agent privileged or add NET_ADMIN (the chart's agent.privileged)");
        }

        if (!facts.TunDevice)
        {
            missing.Add("/dev/net/tun (wireguard-go and openvpn make their devices there): mount it from the host (the chart does) on a kernel with tun");
        }

        if (!facts.ProcSysWritable)
        {
            missing.Add("a writable /proc/sys (babeld sets IP forwarding and rp_filter at every start and exits if it cannot): run the agent privileged (the chart's agent.privileged=true)");
        }

        missing.AddRange(Programs(technologies).Where(p => !facts.Programs.Contains(p)).Select(p => $"the program '{p}' on PATH (the agent's image installs it)"));
        return missing;
    }

    /// <summary>
    /// The programs every host runs. WireGuard is every host's technology: wg configures it, in the
    /// kernel or in wireguard-go (the agent picks). OpenVPN is not required: a host without openvpn
    /// drops it at start.
    /// </summary>
    public static IReadOnlyList<string> Programs(TunnelTechnology technologies) =>
        ["ip", "nft", "babeld", "pkill", .. (technologies & TunnelTechnology.WireGuard) != 0 ? new[] { "wg" } : []];

    /// <summary>Reads the facts of this process's host, for the programs <paramref name="technologies"/> need.</summary>
    public static Facts Read(TunnelTechnology technologies)
    {
        var programs = Programs(technologies);
        // CapEff is a hexadecimal mask; CAP_NET_ADMIN is bit 12.
        var capabilities = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        var netAdmin = capabilities is not null
            && ulong.TryParse(capabilities["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask)
            && (mask & (1UL << 12)) != 0;
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries);
        var found = programs.Where(p => path.Any(dir => File.Exists(Path.Combine(dir, p)))).ToHashSet(StringComparer.Ordinal);
        return new Facts(netAdmin, File.Exists("/dev/net/tun"), Writable("/proc/sys/net/ipv6/conf/all/forwarding"), found);
    }

    private static bool Writable(string path)
    {
        try
        {
            // Opening for writing, without writing: a read-only mount refuses the open itself.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
