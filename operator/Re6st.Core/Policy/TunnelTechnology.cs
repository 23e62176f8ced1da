namespace Re6st.Core.Policy;

/// <summary>Tunnel technologies an arrow can use. Kernel WireGuard and wireguard-go are one technology: the agent picks the driver.</summary>
[Flags]
public enum TunnelTechnology
{
    None = 0,
    WireGuard = 1,
    OpenVpn = 2,
    All = WireGuard | OpenVpn,
}

public static class TunnelTechnologyNames
{
    public static IReadOnlyList<string> Known { get; } = ["wireguard", "openvpn"];

    public static bool TryParse(string? name, out TunnelTechnology technology)
    {
        technology = name?.Trim().ToUpperInvariant() switch
        {
            "WIREGUARD" => TunnelTechnology.WireGuard,
            "OPENVPN" => TunnelTechnology.OpenVpn,
            _ => TunnelTechnology.None,
        };
        return technology != TunnelTechnology.None;
    }

    public static string ToName(this TunnelTechnology technology) => technology switch
    {
        TunnelTechnology.WireGuard => "wireguard",
        TunnelTechnology.OpenVpn => "openvpn",
        _ => string.Join(",", Enum.GetValues<TunnelTechnology>()
            .Where(t => t is TunnelTechnology.WireGuard or TunnelTechnology.OpenVpn && technology.HasFlag(t))
            .Select(t => t.ToName())),
    };
}
