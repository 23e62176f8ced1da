namespace Re6st.Core.Validation;

/// <summary>A valid value that weakens one of the principles.</summary>
public sealed record PrincipleWarning(string Path, Principle Principle, string Reason)
{
    public override string ToString() => $"{Path}: breaks \"{Principle.Describe()}\": {Reason}";
}
