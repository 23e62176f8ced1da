namespace Re6st.Core.Validation;

/// <summary>An invalid value: the field path (as in the resource, e.g. spec.destroyShare) and why.</summary>
public sealed record ValidationError(string Path, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}
