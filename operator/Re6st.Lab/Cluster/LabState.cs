using System.Text.Json;
using System.Text.Json.Serialization;

namespace Re6st.Lab.Cluster;

/// <summary>
/// What a running lab is made of, kept in its folder (state.json) by the lab's own process, so
/// that `lab status` can read it and `lab down` can remove it, even after that process died.
/// </summary>
public sealed record LabState
{
    public const string FileName = "state.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>The lab process: it owns everything below and removes it when told to stop.</summary>
    public required LabProcess Lab { get; init; }

    public LabPhase Phase { get; init; }

    public LabKind Kind { get; init; } = LabKind.Processes;

    /// <summary>Why the lab failed to come up (phase failed).</summary>
    public string? Error { get; init; }

    /// <summary>The network namespaces' run id (their names start with it).</summary>
    public string? RunId { get; init; }

    public string? Mesh { get; init; }

    public int Order { get; init; }

    public string? Kubeconfig { get; init; }

    public int ApiServerPort { get; init; }

    public int PrometheusPort { get; init; }

    public int OperatorMetricsPort { get; init; }

    public IReadOnlyList<LabNode> Nodes { get; init; } = [];

    /// <summary>Every process the lab started outside the hosts' namespaces (those go with their namespace).</summary>
    public IReadOnlyList<LabProcess> Processes { get; init; } = [];

    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    /// <summary>The state in <paramref name="directory"/>, or null when no lab was started there.</summary>
    public static LabState? Read(string directory)
    {
        var path = PathIn(directory);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<LabState>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a lab state ({e.Message}); remove it by hand if no lab runs", e);
        }
    }

    /// <summary>Replaces the state file in one step (a reader never sees half a file).</summary>
    public void Write(string directory)
    {
        var path = PathIn(directory);
        var temporary = path + ".new";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json));
        File.Move(temporary, path, overwrite: true);
    }
}

public enum LabPhase
{
    Starting,
    Ready,
    Failed,
    Stopping,
}

/// <summary>
/// A host of the lab: its namespace, the Node it is registered as, and its agent (a process of the
/// lab's in the processes mode; null on real nodes, where the agent is a pod).
/// </summary>
public sealed record LabNode(string Name, string Namespace, string Region, string UnderlayInterface, int MetricsPort, LabProcess? Agent)
{
    /// <summary>Where this machine reaches the agent's metrics (a real node's address on the lab's switch).</summary>
    public string MetricsHost { get; init; } = "127.0.0.1";
}

/// <summary>What runs the hosts: real Kubernetes nodes with re6st installed by helm, or agents as the lab's processes.</summary>
public enum LabKind
{
    RealNodes,
    Processes,
}

/// <summary>A process by pid and start time: together they name one process, even after pid reuse.</summary>
public sealed record LabProcess(string What, int Pid, string StartTime)
{
    public static LabProcess Of(string what, int pid) =>
        new(what, pid, ProcessStart.Of(pid) ?? throw new InvalidOperationException($"{what} (pid {pid}) is not running"));

    public bool IsAlive => ProcessStart.Of(Pid) == StartTime;
}
