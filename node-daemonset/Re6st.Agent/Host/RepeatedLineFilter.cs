using System.Globalization;
using System.Text;

namespace Re6st.Agent.Host;

/// <summary>
/// Keeps a log from growing without bound when one line repeats: within each window, the first
/// <see cref="Allowed"/> lines of a shape (the line with its numbers masked) pass, the rest are
/// counted, and one line per shape says how many were left out when the window ends. A babeld that
/// loops on an error writes hundreds of thousands of lines a second (seen: a 172 MB agent log in
/// 18 s); with this it writes at most <see cref="Allowed"/> plus one per shape and window.
/// </summary>
public sealed class RepeatedLineFilter : IDisposable
{
    /// <summary>Shapes tracked at once; past that, lines of new shapes pass unfiltered until the window ends.</summary>
    private const int MaxShapes = 1024;

    private readonly Action<string> _write;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Shape> _shapes = new(StringComparer.Ordinal);
    private readonly ITimer _timer;
    private long _suppressed;
    private long _bytes;

    public RepeatedLineFilter(Action<string> write, TimeProvider? time = null, TimeSpan? window = null, int allowed = 20)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentOutOfRangeException.ThrowIfLessThan(allowed, 1);
        _write = write;
        _time = time ?? TimeProvider.System;
        Window = window ?? TimeSpan.FromSeconds(10);
        Allowed = allowed;

        // Summaries come when their window ends, even if the repeated line stopped.
        _timer = _time.CreateTimer(_ => Flush(), null, Window, Window);
    }

    public TimeSpan Window { get; }

    public int Allowed { get; }

    /// <summary>Bytes of the lines written so far (summaries included, line ends not).</summary>
    public long WrittenBytes => Interlocked.Read(ref _bytes);

    /// <summary>Lines left out so far (the re6st_log_lines_suppressed_total metric).</summary>
    public long Suppressed => Interlocked.Read(ref _suppressed);

    public void Write(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var now = _time.GetUtcNow();
        var key = ShapeOf(line);
        bool pass;
        List<string> summaries;
        lock (_shapes)
        {
            summaries = Expire(now);
            if (!_shapes.TryGetValue(key, out var shape))
            {
                if (_shapes.Count >= MaxShapes)
                {
                    shape = null;
                }
                else
                {
                    shape = new Shape(line, now);
                    _shapes[key] = shape;
                }
            }

            pass = shape is null || ++shape.Seen <= Allowed;
            if (!pass)
            {
                shape!.Last = line;
                Interlocked.Increment(ref _suppressed);
            }
        }

        summaries.ForEach(Emit);
        if (pass)
        {
            Emit(line);
        }
    }

    /// <summary>Writes the summaries of windows that ended.</summary>
    public void Flush() => FlushUntil(_time.GetUtcNow());

    public void Dispose()
    {
        _timer.Dispose();
        FlushUntil(DateTimeOffset.MaxValue);
    }

    private void FlushUntil(DateTimeOffset now)
    {
        List<string> summaries;
        lock (_shapes)
        {
            summaries = Expire(now);
        }

        summaries.ForEach(Emit);
    }

    private void Emit(string line)
    {
        Interlocked.Add(ref _bytes, Encoding.UTF8.GetByteCount(line));
        _write(line);
    }

    /// <summary>The line with every run of digits replaced by '#': "3 routes via re60a3" and "4 routes via re60a5" repeat one shape.</summary>
    public static string ShapeOf(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var shape = new StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            if (char.IsAsciiDigit(line[i]))
            {
                shape.Append('#');
                while (i + 1 < line.Length && char.IsAsciiDigit(line[i + 1]))
                {
                    i++;
                }
            }
            else
            {
                shape.Append(line[i]);
            }
        }

        return shape.ToString();
    }

    private List<string> Expire(DateTimeOffset now)
    {
        List<string> summaries = [];
        foreach (var (key, shape) in _shapes.Where(s => now - s.Value.Since >= Window).ToList())
        {
            _shapes.Remove(key);
            if (shape.Seen > Allowed)
            {
                var left = shape.Seen - Allowed;
                summaries.Add(string.Create(CultureInfo.InvariantCulture, $"(left out {left} more line(s) like this one within {Window.TotalSeconds:0.#} s: {shape.Last})"));
            }
        }

        return summaries;
    }

    private sealed class Shape(string first, DateTimeOffset since)
    {
        public DateTimeOffset Since { get; } = since;

        public long Seen { get; set; }

        public string Last { get; set; } = first;
    }
}
