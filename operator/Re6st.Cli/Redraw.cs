namespace Re6st.Cli;

/// <summary>A text shown once, or redrawn every 2 seconds until Ctrl-C (<c>--watch</c>).</summary>
public static class Redraw
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Writes what <paramref name="render"/> gives, once or (<paramref name="watch"/>) every 2 s on
    /// a cleared screen until Ctrl-C; a null text stops it with exit code 2.
    /// </summary>
    public static async Task<int> RunAsync(bool watch, Func<CancellationToken, Task<string?>> render)
    {
        ArgumentNullException.ThrowIfNull(render);
        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupted.Cancel();
        };
        do
        {
            if (await render(interrupted.Token) is not { } text)
            {
                return 2;
            }

            if (watch)
            {
                Console.Clear();
                Console.WriteLine($"{DateTime.Now:HH:mm:ss} (every {Every.TotalSeconds:0} s; Ctrl-C to stop)");
            }

            Console.Write(text);
            if (watch)
            {
                try
                {
                    await Task.Delay(Every, interrupted.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        while (watch && !interrupted.IsCancellationRequested);
        return 0;
    }
}
