namespace Re6st.Runtime;

/// <summary>
/// Where the spans of a program go: nowhere (the default), or an OTLP collector. A --traces value
/// wins over the standard OpenTelemetry variables; without one, OTEL_EXPORTER_OTLP_ENDPOINT or
/// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT turn the export on and the exporter reads them itself.
/// </summary>
public sealed record TraceTarget
{
    public static TraceTarget Off { get; } = new();

    public bool Enabled { get; private init; }

    /// <summary>The collector given by --traces (a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is); null when the environment says.</summary>
    public Uri? Endpoint { get; private init; }

    /// <summary>
    /// A --traces value ("off", or the collector's http:// or https:// URL), or null when the option
    /// was not given. Throws a FormatException that names the option or the variable.
    /// </summary>
    public static TraceTarget Parse(string? option, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (option is not null)
        {
            return option == "off" ? Off : new TraceTarget { Enabled = true, Endpoint = Url(option) ?? throw new FormatException($"--traces: '{option}' is not an http:// or https:// URL (or 'off')") };
        }

        if (string.Equals(environment("OTEL_SDK_DISABLED"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return Off;
        }

        foreach (var variable in new[] { "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT" })
        {
            if (environment(variable) is { Length: > 0 } value)
            {
                _ = Url(value) ?? throw new FormatException($"{variable}: '{value}' is not an http:// or https:// URL");
                return new TraceTarget { Enabled = true };
            }
        }

        return Off;
    }

    public override string ToString() => !Enabled ? "off" : Endpoint?.ToString() ?? "the OTEL_EXPORTER_OTLP_* variables";

    private static Uri? Url(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url : null;
}
