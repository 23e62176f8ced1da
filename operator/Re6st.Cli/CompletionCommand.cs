using System.CommandLine;

namespace Re6st.Cli;

/// <summary>
/// <c>re6st completion bash|zsh</c>: a shell script that completes re6st's commands and options.
/// The script asks the program itself (System.CommandLine's <c>[suggest:N]</c> directive), so
/// completion never drifts from the command tree.
/// </summary>
public static class CompletionCommand
{
    // The line up to the cursor, without the program's name, goes to `re6st [suggest:N] LINE`, N
    // its length; the program answers one candidate per line, which compgen filters by the word
    // being typed.
    private const string Bash = """
        # re6st completion for bash. Load it with: source <(./re6st completion bash)
        _re6st_complete() {
            local line="${COMP_LINE:0:COMP_POINT}"
            line="${line#*"${COMP_WORDS[0]}"}"
            line="${line#"${line%%[![:space:]]*}"}"
            local IFS=$'\n'
            COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "[suggest:${#line}]" "$line" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -o default -F _re6st_complete re6st ./re6st

        """;

    private const string Zsh = """
        # re6st completion for zsh. Load it with: source <(./re6st completion zsh)
        autoload -U +X bashcompinit && bashcompinit

        """ + Bash;

    public static Command Create()
    {
        var shell = new Argument<string>("SHELL") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", """
            A script that completes re6st's commands and options in bash or zsh.

            Prints a script that completes re6st's commands and options in the shell:
            source <(./re6st completion bash), or add that line to ~/.bashrc (zsh: ~/.zshrc).
            """).With(shell);
        command.SetAction(r => Console.Write(r.GetValue(shell) == "zsh" ? Zsh : Bash));
        return command;
    }
}
