using Re6st.Core.Policy;

namespace Re6st.Agent.Tunnels;

/// <summary>Creates and removes arrow interfaces of one technology on this host.</summary>
public interface ITunnelDriver : IAsyncDisposable
{
    TunnelTechnology Technology { get; }

    /// <summary>Which implementation runs (e.g. "kernel" or "wireguard-go").</summary>
    string Implementation { get; }

    Task CreateAsync(TunnelSpec spec, CancellationToken cancellationToken);

    /// <summary>Stops the tunnel and removes its device.</summary>
    /// <param name="deviceReplaced">The device was already replaced by a tombstone of the same name (<see cref="Babel.InterfaceTombstones"/>), which must stay.</param>
    Task DeleteAsync(string interfaceName, CancellationToken cancellationToken, bool deviceReplaced = false);

    /// <summary>Arrow interfaces of this driver that exist now (created by it, or found and adopted).</summary>
    IReadOnlyCollection<string> Interfaces { get; }
}
