using System.Globalization;
using Re6st.Agent.Lifecycle;
using Re6st.Core.Policy;

namespace Re6st.Agent.Host;

/// <summary>
/// What the agent needs from its host before it touches anything, checked at start so that a pod
/// missing one of them ends with a message naming it (the chart's terminationMessagePolicy puts
/// it in the pod's status) instead of looping without a reason: the NET_ADMIN capability, the tun
/// device, a writable /proc/sys (babeld sets forwarding and rp_filter at every start), nf_tables in
/// the kernel (the drain's table), and the programs every host runs.
/// </summary>
public static class HostRequirements
{
    /// <summary>What the host offers, as read by <see cref="ReadAsync"/>.</summary>
    /// <param name="NfTablesRefusal">
    /// What nft said when the kernel refused the drain's table (<see cref="BabelDrain.CheckAsync"/>);
    /// null when the kernel takes it, or when nft was not asked: without NET_ADMIN or without nft it
    /// fails for a reason already named.
    /// </param>
    public sealed record Facts(bool NetAdmin, bool TunDevice, bool ProcSysWritable, IReadOnlySet<string> Programs, string? NfTablesRefusal = null);

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

        if (facts.NfTablesRefusal is { } refusal)
        {
            // nft's first line says why; the next ones quote the script and point into it.
            var said = refusal.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "nothing";
            missing.Add($"nf_tables in the kernel (the agent drains arrows with an nft table; nft said: {said}): a kernel with CONFIG_NF_TABLES and CONFIG_NF_TABLES_INET, built in or as modules");
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
    public static async Task<Facts> ReadAsync(TunnelTechnology technologies, CancellationToken cancellationToken)
    {
        var programs = Programs(technologies);
        // CapEff is a hexadecimal mask; CAP_NET_ADMIN is bit 12.
        var capabilities = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        var netAdmin = capabilities is not null
            && ulong.TryParse(capabilities["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask)
            && (mask & (1UL << 12)) != 0;
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries);
        var found = programs.Where(p => path.Any(dir => File.Exists(Path.Combine(dir, p)))).ToHashSet(StringComparer.Ordinal);
        string? nfTablesRefusal = null;
        if (netAdmin && found.Contains("nft"))
        {
            // A missing /sys/module/nf_tables says nothing (modules load on demand): the kernel is asked.
            var check = await BabelDrain.CheckAsync(new HostShell(), cancellationToken).ConfigureAwait(false);
            if (check.ExitCode != 0)
            {
                nfTablesRefusal = check.Error.Trim() is { Length: > 0 } error ? error : $"exit code {check.ExitCode} and no message";
            }
        }

        return new Facts(netAdmin, File.Exists("/dev/net/tun"), Writable("/proc/sys/net/ipv6/conf/all/forwarding"), found, nfTablesRefusal);
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
