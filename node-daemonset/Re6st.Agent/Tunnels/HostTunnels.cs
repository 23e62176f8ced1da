using Re6st.Agent.Host;
using Re6st.Core.Policy;

namespace Re6st.Agent.Tunnels;

/// <summary>
/// The tunnel technologies this host can run, detected at start: WireGuard (kernel, or wireguard-go
/// in userspace) and OpenVPN (2.6 or later). A technology the host lacks is left out of what it
/// publishes, so no peer picks it; WireGuard is required.
/// </summary>
public sealed class HostTunnels : IAsyncDisposable
{
    private readonly WireGuardDriver _wireGuard;
    private readonly OpenVpnDriver? _openVpn;

    private readonly HostShell _shell;

    private HostTunnels(HostShell shell, WireGuardKeys keys, WireGuardDriver wireGuard, OpenVpnDriver? openVpn)
    {
        _shell = shell;
        WireGuardKey = keys.PublicKey;
        _wireGuard = wireGuard;
        _openVpn = openVpn;
    }

    public string WireGuardKey { get; }

    /// <summary>This host's OpenVPN certificate fingerprint, when it runs OpenVPN.</summary>
    public string? OpenVpnFingerprint => _openVpn?.Identity.Fingerprint;

    public TunnelTechnology Available => TunnelTechnology.WireGuard | (_openVpn is null ? TunnelTechnology.None : TunnelTechnology.OpenVpn);

    /// <param name="wanted">Technologies the host may use (configuration); detection narrows it further.</param>
    public static async Task<HostTunnels> CreateAsync(HostShell shell, string node, string stateDirectory, TunnelTechnology wanted, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var keys = await WireGuardKeys.LoadOrCreateAsync(shell, stateDirectory, cancellationToken).ConfigureAwait(false);
        var wireGuard = await WireGuardDriver.CreateAsync(shell, keys, stateDirectory, cancellationToken, log).ConfigureAwait(false);
        log($"{node}: WireGuard arrows through {wireGuard.Implementation}");
        OpenVpnDriver? openVpn = null;
        if ((wanted & TunnelTechnology.OpenVpn) != 0)
        {
            try
            {
                var identity = await OpenVpnIdentity.LoadOrCreateAsync(stateDirectory, node, cancellationToken).ConfigureAwait(false);
                openVpn = await OpenVpnDriver.CreateAsync(shell, identity, stateDirectory, cancellationToken).ConfigureAwait(false);
            }
            catch (HostCommandException e)
            {
                log($"{node}: no OpenVPN arrows: {e.Message}");
            }
        }

        return new HostTunnels(shell, keys, wireGuard, openVpn);
    }

    /// <summary>
    /// Whether an arrow of <paramref name="technology"/> outlives the agent's process: kernel
    /// WireGuard does; wireguard-go and OpenVPN are processes, which outlive an agent that is not in
    /// a pod, or one whose pod they can leave (<see cref="PodEscape"/>).
    /// </summary>
    public bool OutlivesAgent(TunnelTechnology technology) => (technology == TunnelTechnology.WireGuard && _wireGuard.IsKernel) || _shell.ProcessesOutliveAgent;

    public Task CreateAsync(TunnelSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Driver(spec.Technology).CreateAsync(spec, cancellationToken);
    }

    public Task DeleteAsync(string interfaceName, TunnelTechnology technology, CancellationToken cancellationToken, bool deviceReplaced = false) =>
        Driver(technology).DeleteAsync(interfaceName, cancellationToken, deviceReplaced);

    /// <summary>The key (WireGuard) or certificate fingerprint (OpenVPN) a peer published for <paramref name="technology"/>.</summary>
    public static string? PeerIdentity(TunnelTechnology technology, string wireGuardKey, string? openVpnFingerprint) =>
        technology == TunnelTechnology.OpenVpn ? openVpnFingerprint : wireGuardKey;

    /// <summary>
    /// Takes over the arrow interfaces a previous run left (<paramref name="names"/>: every name the
    /// host's pools may use, all starting with <paramref name="prefix"/>), with the technology of
    /// each. OpenVPN's are known by their pid files; the rest are WireGuard's.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, TunnelTechnology>> AdoptAsync(string prefix, IReadOnlySet<string> names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(names);
        var found = new Dictionary<string, TunnelTechnology>(StringComparer.Ordinal);
        if (_openVpn is not null)
        {
            // Only pool names are arrows; anything else is not this agent's to keep.
            foreach (var name in await _openVpn.AdoptAsync(prefix, cancellationToken, names.Contains).ConfigureAwait(false))
            {
                found[name] = TunnelTechnology.OpenVpn;
            }
        }

        foreach (var name in await _wireGuard.AdoptAsync(prefix, cancellationToken, n => names.Contains(n) && !found.ContainsKey(n)).ConfigureAwait(false))
        {
            found[name] = TunnelTechnology.WireGuard;
        }

        return found;
    }

    /// <summary>Clean shutdown: every arrow interface of every driver goes.</summary>
    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        await _wireGuard.RemoveAllAsync(cancellationToken).ConfigureAwait(false);
        if (_openVpn is not null)
        {
            await _openVpn.RemoveAllAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _wireGuard.DisposeAsync().ConfigureAwait(false);
        if (_openVpn is not null)
        {
            await _openVpn.DisposeAsync().ConfigureAwait(false);
        }
    }

    private ITunnelDriver Driver(TunnelTechnology technology) => technology switch
    {
        TunnelTechnology.WireGuard => _wireGuard,
        TunnelTechnology.OpenVpn => _openVpn ?? throw new HostCommandException("this host runs no OpenVPN"),
        _ => throw new ArgumentOutOfRangeException(nameof(technology), technology, "one technology per arrow"),
    };
}
