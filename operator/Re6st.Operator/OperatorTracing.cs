using System.Diagnostics;

namespace Re6st.Operator;

/// <summary>
/// The operator's spans: one per reconcile pass (re6st.reconcile.mesh, re6st.reconcile.policy)
/// with what it concerned, how it ended and how many writes it made; a mesh pass has its planning
/// and its MeshNode writes as children.
/// </summary>
public static class OperatorTracing
{
    public const string SourceName = "Re6st.Operator";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Runs one reconcile pass of the object <paramref name="name"/> (<paramref name="kind"/> is mesh
    /// or policy) in its span, tagged with the outcome and writes the pass returns, or with the error that failed it.
    /// </summary>
    internal static async Task TraceAsync(string kind, string name, Func<Task<(string Outcome, int Writes)>> pass)
    {
        using var span = Source.StartActivity("re6st.reconcile." + kind)?.SetTag("re6st." + kind, name);
        try
        {
            var (outcome, writes) = await pass().ConfigureAwait(false);
            span?.SetTag("re6st.reconcile.outcome", outcome).SetTag("re6st.writes", writes);
        }
        catch (Exception e) when (span is not null)
        {
            span.SetTag("re6st.reconcile.outcome", "error").AddException(e).SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }
}
