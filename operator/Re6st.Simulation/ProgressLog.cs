using System.Diagnostics;

namespace Re6st.Simulation;

/// <summary>
/// Progress of a long run: one line per step (and percentages for slow steps) to a writer such as
/// stderr, or to a live display (<see cref="IProgressView"/>).
/// </summary>
public sealed class ProgressLog(TextWriter? writer)
{
    private readonly TextWriter? _writer = writer;
    private readonly IProgressView? _view;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private long _lastReportMs = -10_000;

    /// <summary>Progress shown live by <paramref name="view"/>.</summary>
    public ProgressLog(IProgressView view)
        : this((TextWriter?)null)
    {
        _view = view ?? throw new ArgumentNullException(nameof(view));
    }

    /// <summary>Progress that goes nowhere (--quiet, tests).</summary>
    public static ProgressLog Quiet => new((TextWriter?)null);

    public double Elapsed => _clock.Elapsed.TotalSeconds;

    public void Step(string what)
    {
        if (_view is not null)
        {
            _view.StartStep(what);
            return;
        }

        lock (_lock)
        {
            _writer?.WriteLine($"[{Elapsed,7:F1}s] {what}");
            _writer?.Flush();
        }
    }

    /// <summary>A progress sink for one step that prints at most every 2 seconds.</summary>
    public IProgress<double> For(string what) => new Sink(this, what);

    private sealed class Sink(ProgressLog log, string what) : IProgress<double>
    {
        public void Report(double value)
        {
            if (log._view is not null)
            {
                log._view.Report(what, value);
                return;
            }

            var now = log._clock.ElapsedMilliseconds;
            lock (log._lock)
            {
                if (now - log._lastReportMs < 2000 && value < 1)
                {
                    return;
                }

                log._lastReportMs = now;
                log._writer?.WriteLine($"[{log.Elapsed,7:F1}s]   {what}: {value:P0}");
                log._writer?.Flush();
            }
        }
    }
}
