namespace Re6st.Core.Validation;

public sealed class InvalidSpecException : Exception
{
    public InvalidSpecException()
        : this([])
    {
    }

    public InvalidSpecException(string message)
        : base(message)
    {
        Errors = [new ValidationError("", message)];
    }

    public InvalidSpecException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [new ValidationError("", message)];
    }

    public InvalidSpecException(IReadOnlyList<ValidationError> errors)
        : base("invalid spec: " + string.Join("; ", errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<ValidationError> Errors { get; }
}
