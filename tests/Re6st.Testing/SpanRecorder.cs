using System.Collections;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Re6st.Runtime;

namespace Re6st.Testing;

/// <summary>
/// The programs' tracer with the in-memory exporter in place of OTLP. Spans started while a test's
/// <see cref="Root"/> is current (the agents and operators the test starts, their loops included)
/// share its trace, which tells them from those of tests running alongside.
/// </summary>
public sealed class SpanRecorder : IDisposable
{
    private static readonly ActivitySource Tests = new("Re6st.Tests");
    private readonly Exported _spans = new();
    private readonly TracerProvider _provider;

    public SpanRecorder(string service, string source)
    {
        _provider = TraceExport.Builder(service, "test", source, Tests.Name).AddInMemoryExporter(_spans).Build();
        Root = Tests.StartActivity("test") ?? throw new InvalidOperationException("the test's root span was not sampled");
    }

    public Activity Root { get; }

    /// <summary>The spans of this test's trace exported so far, oldest first.</summary>
    public IReadOnlyList<Activity> Spans => [.. _spans.Snapshot().Where(s => s.TraceId == Root.TraceId && s != Root)];

    /// <summary>A span of the test's own (under the root), to find the spans of what it does meanwhile.</summary>
    public Activity Step(string name) => Tests.StartActivity(name, ActivityKind.Internal, Root.Context)!;

    public IReadOnlyList<Activity> Named(string name) => [.. Spans.Where(s => s.OperationName == name)];

    public static object? Tag(Activity span, string key) => span.TagObjects.FirstOrDefault(t => t.Key == key).Value;

    /// <summary>Polls the exported spans until <paramref name="check"/> finds what it looks for.</summary>
    public async Task<T> EventuallyAsync<T>(Func<IReadOnlyList<Activity>, T?> check, TimeSpan timeout, string what)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var spans = Spans;
            if (check(spans) is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"{what}: not exported within {timeout.TotalSeconds:F0} s; spans: {string.Join(", ", spans.Select(Describe))}");
            }

            await Task.Delay(100);
        }
    }

    public static string Describe(Activity span) =>
        $"{span.OperationName}({string.Join(' ', span.TagObjects.Select(t => $"{t.Key}={(t.Value is string[] a ? string.Join(',', a) : t.Value)}"))})";

    public void Dispose()
    {
        Root.Dispose();
        _provider.Dispose();
    }

    /// <summary>The exporter's list, written by the programs' threads while the test reads it.</summary>
    private sealed class Exported : ICollection<Activity>
    {
        private readonly List<Activity> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public List<Activity> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(Activity item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(Activity item) => Snapshot().Contains(item);

        public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(Activity item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
