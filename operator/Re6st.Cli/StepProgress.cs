using System.Diagnostics;
using Re6st.Simulation;
using Spectre.Console;

namespace Re6st.Cli;

/// <summary>
/// The progress of a long command (lab up, sim, bench, drill), step by step, on stderr. On a
/// terminal: a live display (Spectre.Console) with a line per step, its spinner or bar, its
/// percentage and its time, the finished steps kept above the running one. Elsewhere (a pipe, a
/// file, CI logs): one plain line per step, "[  12.3s] step", and a percentage at most every 2 s.
/// The command writes nothing else to the terminal until it disposes of it.
/// </summary>
public sealed class StepProgress : IProgressView, IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ProgressContext? _live;
    private int _descriptionWidth = 40;
    private Task? _display;
    private ProgressTask? _current;
    private string? _currentName;
    private long _lastPlainReportMs = -10_000;

    private StepProgress()
    {
    }

    /// <summary>Whether stderr is a terminal that can redraw (not redirected, not a dumb terminal).</summary>
    public static bool Live => !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "" or "dumb");

    /// <summary>Starts the display: live on a terminal, plain lines elsewhere.</summary>
    public static async Task<StepProgress> StartAsync()
    {
        var progress = new StepProgress();
        if (!Live)
        {
            return progress;
        }

        // Spectre's display lives as long as its callback: it waits here until DisposeAsync.
        var started = new TaskCompletionSource<ProgressContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

        // The bar, percentage and time keep their width; a long step is cut to what is left.
        progress._descriptionWidth = Math.Max(20, console.Profile.Width - 45);
        progress._display = console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 20 }, new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                started.SetResult(context);
                await progress._done.Task;
            });
        progress._live = await started.Task;
        return progress;
    }

    /// <summary>Ends the display, the running step done.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            Finish();
        }

        _done.TrySetResult();
        if (_display is not null)
        {
            await _display;
        }

        lock (_lock)
        {
            _live = null; // what comes after (a teardown's steps) goes out as plain lines
        }
    }

    void IProgressView.StartStep(string what) => Step(what);

    /// <summary>A new step; the one before it is done.</summary>
    public void Step(string what)
    {
        ArgumentNullException.ThrowIfNull(what);
        lock (_lock)
        {
            if (_live is null)
            {
                Console.Error.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:F1}s] {what}");
                return;
            }

            Finish();
            _current = _live.AddTask(Describe(what), maxValue: 1);
            _current.IsIndeterminate = true;
            _currentName = what;
        }
    }

    /// <summary>How far the step named <paramref name="what"/> is, from 0 to 1 (a new step when it is not the current one).</summary>
    public void Report(string what, double fraction)
    {
        ArgumentNullException.ThrowIfNull(what);
        lock (_lock)
        {
            if (_live is null)
            {
                var now = _clock.ElapsedMilliseconds;
                if (now - _lastPlainReportMs >= 2000 || fraction >= 1)
                {
                    _lastPlainReportMs = now;
                    Console.Error.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:F1}s]   {what}: {fraction:P0}");
                }

                return;
            }

            // A step's first percentage fills its own bar ("stretch on 50 pairs", then "stretch: 5 %").
            if (_currentName != what && _current is { IsIndeterminate: true })
            {
                _currentName = what;
            }
            else if (_currentName != what)
            {
                Finish();
                _current = _live.AddTask(Describe(what), maxValue: 1);
                _currentName = what;
            }

            _current!.IsIndeterminate = false;
            _current.Value = Math.Clamp(fraction, 0, 1);
        }
    }

    private string Describe(string what) => Markup.Escape(what.Length <= _descriptionWidth ? what : what[..(_descriptionWidth - 1)] + "…");

    private void Finish()
    {
        if (_current is { } done)
        {
            done.IsIndeterminate = false;
            done.Value = done.MaxValue;
            done.StopTask();
        }

        (_current, _currentName) = (null, null);
    }
}
