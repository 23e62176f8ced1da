namespace Re6st.Core.Validation;

/// <summary>
/// The outcome of checking a declared spec: every error at once (never only the first), the
/// principle warnings, and the parsed value when there is no error.
/// </summary>
public sealed record Validated<T>(T? Value, IReadOnlyList<ValidationError> Errors, IReadOnlyList<PrincipleWarning> Warnings)
    where T : class
{
    public bool IsValid => Errors.Count == 0;

    public T ValueOrThrow() => IsValid && Value is not null
        ? Value
        : throw new InvalidSpecException(Errors);
}
