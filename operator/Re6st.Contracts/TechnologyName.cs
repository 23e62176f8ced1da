using System.Text.Json.Serialization;
using Re6st.Core.Policy;

namespace Re6st.Contracts;

[JsonConverter(typeof(JsonStringEnumConverter<TechnologyName>))]
public enum TechnologyName
{
    [JsonStringEnumMemberName("wireguard")]
    WireGuard,

    [JsonStringEnumMemberName("openvpn")]
    OpenVpn,
}

public static class TechnologyNames
{
    public static TunnelTechnology ToCore(this TechnologyName name) => name == TechnologyName.WireGuard ? TunnelTechnology.WireGuard : TunnelTechnology.OpenVpn;

    public static TunnelTechnology ToCore(this IEnumerable<TechnologyName> names) => names.Aggregate(TunnelTechnology.None, (all, name) => all | name.ToCore());

    public static List<TechnologyName> FromCore(TunnelTechnology technologies) =>
        [.. Enum.GetValues<TechnologyName>().Where(name => technologies.HasFlag(name.ToCore()))];
}
