namespace Re6st.Lab;

/// <summary>A log file that several threads append lines to (a process's output, the lab's own lines).</summary>
public sealed class LogFile : IDisposable
{
    private readonly StreamWriter _writer;
    private bool _disposed;

    public LogFile(string path)
    {
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        Path = path;
        _writer = new StreamWriter(path, append: true) { AutoFlush = true };
    }

    public string Path { get; }

    /// <summary>Appends a line; lines that come after disposal (a process's last words) are dropped.</summary>
    public void Write(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_writer)
        {
            if (!_disposed)
            {
                _writer.WriteLine(line);
            }
        }
    }

    public void Dispose()
    {
        lock (_writer)
        {
            _disposed = true;
            _writer.Dispose();
        }
    }
}
