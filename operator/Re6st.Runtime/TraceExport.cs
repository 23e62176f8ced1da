using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Re6st.Runtime;

/// <summary>
/// The OpenTelemetry tracer of the operator and of the agent. Without a target nothing listens to
/// their ActivitySources, so a span costs one check; with one, spans go by OTLP in batches.
/// </summary>
public static class TraceExport
{
    /// <summary>The tracer for <paramref name="sources"/>, exporting to <paramref name="target"/>; null when it is off.</summary>
    /// <param name="service">service.name unless OTEL_SERVICE_NAME says otherwise (re6st-operator, re6st-agent).</param>
    /// <param name="instance">service.instance.id: the replica or the node.</param>
    public static TracerProvider? Start(TraceTarget target, string service, string instance, params string[] sources)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!target.Enabled)
        {
            return null;
        }

        return Builder(service, instance, sources)
            .AddOtlpExporter(o =>
            {
                if (target.Endpoint is { } endpoint)
                {
                    // CAVEAT: an endpoint set in code is used as it is, whereas the exporter adds the
                    // signal's path to OTEL_EXPORTER_OTLP_ENDPOINT itself: over HTTP, add it here too.
                    o.Endpoint = o.Protocol == OtlpExportProtocol.HttpProtobuf ? new Uri(endpoint.ToString().TrimEnd('/') + "/v1/traces") : endpoint;
                }
            })
            .Build();
    }

    /// <summary>The tracer's sources and resource, before an exporter is added (the tests add an in-memory one).</summary>
    public static TracerProviderBuilder Builder(string service, string instance, params string[] sources) =>
        Sdk.CreateTracerProviderBuilder()
            .AddSource(sources)

            // The environment's detector comes last, so OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
            .SetResourceBuilder(ResourceBuilder.CreateEmpty()
                .AddService(service, serviceInstanceId: instance, autoGenerateServiceInstanceId: false)
                .AddTelemetrySdk()
                .AddEnvironmentVariableDetector());
}
