using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Re6st.Operator.Reconcile;

/// <summary>
/// Kubernetes Events on the resources (shown by `kubectl describe`), in the "default" namespace as
/// for every cluster-scoped object. The same reason and message for the same object is told once
/// per ten minutes, so a resync loop never floods the API server.
/// </summary>
public sealed partial class EventRecorder(IKubernetes client, ILogger log, TimeProvider time)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _told = new(StringComparer.Ordinal);

    public async Task RecordAsync(IKubernetesObject<V1ObjectMeta> target, OutcomeEvent e, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(e);
        var key = $"{target.Kind}/{target.Metadata.Name}/{e.Reason}/{e.Message}";
        var now = time.GetUtcNow();
        if (_told.TryGetValue(key, out var last) && now - last < Quiet)
        {
            return;
        }

        _told[key] = now;
        if (e.Warning)
        {
            LogWarning(log, target.Kind, target.Metadata.Name, e.Reason, e.Message);
        }
        else
        {
            LogNormal(log, target.Kind, target.Metadata.Name, e.Reason, e.Message);
        }

        var message = e.Message.Length > 1000 ? e.Message[..997] + "..." : e.Message;
        var ev = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = target.Metadata.Name + ".", NamespaceProperty = "default" },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = target.ApiVersion,
                Kind = target.Kind,
                Name = target.Metadata.Name,
                Uid = target.Metadata.Uid,
                ResourceVersion = target.Metadata.ResourceVersion,
            },
            Reason = e.Reason,
            Message = message,
            Type = e.Warning ? "Warning" : "Normal",
            Source = new V1EventSource { Component = "re6st-operator" },
            FirstTimestamp = now.UtcDateTime,
            LastTimestamp = now.UtcDateTime,
            Count = 1,
        };
        try
        {
            await client.CoreV1.CreateNamespacedEventAsync(ev, "default", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // An event that cannot be written must never fail a reconcile.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogEventFailed(log, e.Reason, ex.Message);
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "{Kind} {Name}: {Reason}: {Message}")]
    private static partial void LogNormal(ILogger log, string kind, string name, string reason, string message);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "{Kind} {Name}: {Reason}: {Message}")]
    private static partial void LogWarning(ILogger log, string kind, string name, string reason, string message);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "could not write event {Reason}: {Error}")]
    private static partial void LogEventFailed(ILogger log, string reason, string error);
}
