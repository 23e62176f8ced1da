using Re6st.Contracts;


namespace Re6st.Operator.Reconcile;

public static class Conditions
{
    /// <summary>The mesh's hosts are routed (<see cref="Health.HostRouting"/>); on a policy, that it is valid.</summary>
    public const string Ready = "Ready";

    /// <summary>The operator planned the mesh: every selected node has its MeshNode.</summary>
    public const string Planned = "Planned";
    public const string Degraded = "Degraded";
    public const string Progressing = "Progressing";

    /// <summary>
    /// Sets one condition; its lastTransitionTime only moves when its status changes, so an
    /// unchanged outcome writes an identical status (reconciling twice changes nothing).
    /// </summary>
    public static List<Condition> With(IReadOnlyList<Condition>? existing, string type, bool status, string reason, string message, long? generation, DateTime now)
    {
        var result = existing?.Where(c => c.Type != type).Select(Copy).ToList() ?? [];
        var previous = existing?.FirstOrDefault(c => c.Type == type);
        var text = status ? "True" : "False";
        result.Add(new Condition
        {
            Type = type,
            Status = text,
            Reason = reason,

            // CAVEAT: kube-apiserver 1.20 turns "" inside a JSON patch into null, which then fails
            // the schema's type: string. An empty message is left out instead.
            Message = string.IsNullOrEmpty(message) ? null : message,
            ObservedGeneration = generation,
            LastTransitionTime = previous is not null && previous.Status == text && previous.LastTransitionTime is { } t ? t : now,
        });
        result.Sort((a, b) => string.CompareOrdinal(a.Type, b.Type));
        return result;
    }

    public static bool IsTrue(IReadOnlyList<Condition>? conditions, string type) =>
        conditions?.Any(c => c.Type == type && c.Status == "True") == true;

    private static Condition Copy(Condition c) => new()
    {
        Type = c.Type,
        Status = c.Status,
        Reason = c.Reason,
        Message = c.Message,
        ObservedGeneration = c.ObservedGeneration,
        LastTransitionTime = c.LastTransitionTime,
    };
}
