using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Re6st.Integration.Tests.Fixtures;

/// <summary>Keeps the operator's log lines so a failing test can show them.</summary>
public sealed class MemoryLogger : ILoggerProvider, ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public string Tail(int count = 40) => string.Join('\n', _lines.TakeLast(count));

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (IsEnabled(logLevel))
        {
            _lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
        }
    }

    public void Dispose()
    {
    }
}
