using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Re6st.Agent.Lifecycle;
using Re6st.Agent.Membership;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;

namespace Re6st.Agent;

/// <summary>
/// Every file the agent reads or writes in JSON (its arrow journal, and the plan and status files of
/// a membership directory), serialized by generated code: the native agent has no reflection to
/// fall back on. Enums are camelCase names, prefixes and addresses their usual text.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters =
    [
        typeof(CamelCaseEnumConverter<TunnelTechnology>),
        typeof(CamelCaseEnumConverter<ArrowState>),
        typeof(CamelCaseEnumConverter<MembershipRole>),
        typeof(CamelCaseEnumConverter<FilterMatch>),
        typeof(PrefixConverter),
        typeof(AddressConverter),
    ])]
[JsonSerializable(typeof(List<JournalEntry>))]
[JsonSerializable(typeof(PlanFile))]
[JsonSerializable(typeof(PeerStatus))]
[JsonSerializable(typeof(NodePlan))]
public sealed partial class AgentJsonContext : JsonSerializerContext;

internal sealed class CamelCaseEnumConverter<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.CamelCase)
    where T : struct, Enum;

internal sealed class PrefixConverter : JsonConverter<IpPrefix>
{
    public override IpPrefix Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => IpPrefix.Parse(reader.GetString()!);

    public override void Write(Utf8JsonWriter writer, IpPrefix value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

internal sealed class AddressConverter : JsonConverter<IPAddress>
{
    public override IPAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => IPAddress.Parse(reader.GetString()!);

    public override void Write(Utf8JsonWriter writer, IPAddress value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
