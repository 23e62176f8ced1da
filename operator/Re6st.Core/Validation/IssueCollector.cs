namespace Re6st.Core.Validation;

/// <summary>Collects errors and warnings while a spec is checked field by field.</summary>
internal sealed class IssueCollector
{
    public List<ValidationError> Errors { get; } = [];

    public List<PrincipleWarning> Warnings { get; } = [];

    public void Error(string path, string reason) => Errors.Add(new ValidationError(path, reason));

    public void Warn(string path, Principle principle, string reason) => Warnings.Add(new PrincipleWarning(path, principle, reason));

    public double Share(string path, double? value, double fallback)
    {
        var v = value ?? fallback;
        if (double.IsNaN(v) || v < 0 || v > 1)
        {
            Error(path, $"must be a share between 0 and 1 (got {v})");
        }

        return v;
    }

    public int Range(string path, int? value, int fallback, int min, int max)
    {
        var v = value ?? fallback;
        if (v < min || v > max)
        {
            Error(path, $"must be between {min} and {max} (got {v})");
        }

        return v;
    }

    public Validated<T> Result<T>(T value)
        where T : class => new(Errors.Count == 0 ? value : null, Errors, Warnings);
}
