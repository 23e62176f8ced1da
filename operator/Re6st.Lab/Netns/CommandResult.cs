namespace Re6st.Lab.Netns;

public sealed record CommandResult(string Command, int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;

    public override string ToString() => $"'{Command}' exited {ExitCode}\n{Output}{Error}";
}
