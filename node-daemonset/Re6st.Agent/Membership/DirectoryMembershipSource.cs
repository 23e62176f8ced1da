using System.Text.Json;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Addressing;
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
    /// <summary>The options of the plan and status files (for the types in <see cref="AgentJsonContext"/>).</summary>
    public static JsonSerializerOptions Json => AgentJsonContext.Default.Options;

    public async Task<AgentView?> ReadAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, "plans", node + ".json");
        if (!File.Exists(path))
        {
            return null;
        }

        await using var stream = File.OpenRead(path);
        var file = await JsonSerializer.DeserializeAsync(stream, AgentJsonContext.Default.PlanFile, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"{path} is empty");
        var peers = new List<PeerView>();
        foreach (var member in file.Members)
        {
            var status = ReadStatus(member.Name);
            peers.Add(new PeerView(
                new NodeInfo(member.Name, member.Labels ?? NodeInfo.NoLabels, member.Capacity, member.Technologies),
                member.SubMeshes,
                status)
            {
                Prefixes = member.Prefixes ?? [],
            });
        }

        var validated = PolicyValidator.Validate(file.Policy ?? new RandomizationPolicySpec()).ValueOrThrow();
        var self = file.Self is { } me ? new NodeInfo(file.Plan.Name, me.Labels ?? NodeInfo.NoLabels, me.Capacity, me.Technologies) : null;
        return new AgentView(file.Plan, validated, file.HelloInterval, peers) { Self = self };
    }

    public async Task PublishAsync(PeerStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        await WriteAtomicallyAsync(Path.Combine(directory, "status", node + ".json"), JsonSerializer.Serialize(status, AgentJsonContext.Default.PeerStatus), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one host's plan file (the operator's role in the lab and the tests).</summary>
    public static Task WritePlanAsync(string directory, PlanFile plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return WriteAtomicallyAsync(Path.Combine(directory, "plans", plan.Plan.Name + ".json"), JsonSerializer.Serialize(plan, AgentJsonContext.Default.PlanFile), cancellationToken);
    }

    private PeerStatus? ReadStatus(string peer)
    {
        var path = Path.Combine(directory, "status", peer + ".json");
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), AgentJsonContext.Default.PeerStatus) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task WriteAtomicallyAsync(string path, string text, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Environment.ProcessId + "." + Environment.CurrentManagedThreadId + ".tmp";
        await File.WriteAllTextAsync(temp, text, cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
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

    /// <summary>The member's own prefixes (what a stand-in may announce for it while it hands over).</summary>
    public IReadOnlyList<IpPrefix>? Prefixes { get; init; }
}
