using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;

namespace Re6st.Agent.Membership;

/// <summary>
/// A shared directory as the membership source: <c>plans/&lt;node&gt;.json</c> (written by whoever plays
/// the operator: one host's plan, policy and the members of its sub-meshes) and
/// <c>status/&lt;node&gt;.json</c> (each host's own publication). Writes are atomic (temp + rename), so a
/// reader never sees half a file.
/// </summary>
public sealed class DirectoryMembershipSource(string directory, string node) : IMembershipSource
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase), new PrefixConverter(), new AddressConverter() },
    };

    public async Task<AgentView?> ReadAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, "plans", node + ".json");
        if (!File.Exists(path))
        {
            return null;
        }

        await using var stream = File.OpenRead(path);
        var file = await JsonSerializer.DeserializeAsync<PlanFile>(stream, Json, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"{path} is empty");
        var peers = new List<PeerView>();
        foreach (var member in file.Members)
        {
            var status = ReadStatus(member.Name);
            peers.Add(new PeerView(
                new NodeInfo(member.Name, member.Labels ?? NodeInfo.NoLabels, member.Capacity, member.Technologies),
                member.SubMeshes,
                status));
        }

        var validated = PolicyValidator.Validate(file.Policy ?? new RandomizationPolicySpec()).ValueOrThrow();
        var self = file.Self is { } me ? new NodeInfo(file.Plan.Name, me.Labels ?? NodeInfo.NoLabels, me.Capacity, me.Technologies) : null;
        return new AgentView(file.Plan, validated, file.HelloInterval, peers) { Self = self };
    }

    public async Task PublishAsync(PeerStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        await WriteAtomicallyAsync(Path.Combine(directory, "status", node + ".json"), status, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one host's plan file (the operator's role in the lab and the tests).</summary>
    public static Task WritePlanAsync(string directory, PlanFile plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return WriteAtomicallyAsync(Path.Combine(directory, "plans", plan.Plan.Name + ".json"), plan, cancellationToken);
    }

    private PeerStatus? ReadStatus(string peer)
    {
        var path = Path.Combine(directory, "status", peer + ".json");
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<PeerStatus>(File.ReadAllText(path), Json) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task WriteAtomicallyAsync<T>(string path, T value, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Environment.ProcessId + "." + Environment.CurrentManagedThreadId + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(value, Json), cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
    }

    private sealed class PrefixConverter : JsonConverter<IpPrefix>
    {
        public override IpPrefix Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => IpPrefix.Parse(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, IpPrefix value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }

    private sealed class AddressConverter : JsonConverter<IPAddress>
    {
        public override IPAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => IPAddress.Parse(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, IPAddress value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}

/// <summary>One host's plan file: its NodePlan, the policy, Babel settings, and the members of its sub-meshes.</summary>
public sealed record PlanFile(NodePlan Plan, RandomizationPolicySpec? Policy, TimeSpan HelloInterval, IReadOnlyList<MemberFile> Members)
{
    /// <summary>The host itself as the operator describes it (its labels matter to technology rules).</summary>
    public MemberFile? Self { get; init; }
}

public sealed record MemberFile(string Name, IReadOnlyList<string> SubMeshes, double Capacity = 1, TunnelTechnology Technologies = TunnelTechnology.All)
{
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}
