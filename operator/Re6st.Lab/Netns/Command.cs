using Re6st.Runtime;

namespace Re6st.Lab.Netns;

/// <summary>
/// The lab's shorthand for <see cref="CommandRunner"/>: a 15 s deadline, and a command that fails
/// throws with all it wrote, unless <c>check</c> is false (the lab's set-up steps must all succeed).
/// </summary>
public static class Command
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    public static async Task<CommandResult> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null, bool check = true)
    {
        var result = await CommandRunner.RunAsync(file, args, timeout ?? DefaultTimeout);
        return check ? result.EnsureSucceeded() : result;
    }
}
