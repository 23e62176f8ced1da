using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using Re6st.Core.Validation;

namespace Re6st.Cli;

/// <summary>
/// The <c>re6st</c> program's command tree (System.CommandLine): every command and sub-command
/// answers <c>--help</c>, takes <c>--opt value</c> and <c>--opt=value</c>, suggests the nearest
/// command on a typo, and completes in the shell (<c>re6st completion bash</c>).
/// </summary>
public static class Re6stCommand
{
    /// <summary>Exit code of a command line that cannot be run (an unknown option, a value out of range).</summary>
    public const int UsageError = 2;

    public static RootCommand Build()
    {
        var root = new RootCommand("""
            re6st: a random mesh of tunnels between hosts, routed by Babel, run by a Kubernetes operator.
            `re6st lab up` runs the whole system on this machine; `re6st check` says whether a
            cluster's re6st works.
            """);
        root.Subcommands.Add(SimCommand.Create());
        root.Subcommands.Add(OperatingSystem.IsLinux() ? LabCommand.Create() : LinuxOnly("lab", "the lab runs hosts as network namespaces"));
        root.Subcommands.Add(OperatingSystem.IsLinux() ? BenchCommand.Create() : LinuxOnly("bench", "the benchmarks run a local kube-apiserver and network namespaces"));
        root.Subcommands.Add(OperatingSystem.IsLinux() ? DrillCommand.Create() : LinuxOnly("drill", "the drills run hosts as network namespaces"));
        root.Subcommands.Add(CrdsCommand.Create());
        root.Subcommands.Add(LintCommand.Create());
        root.Subcommands.Add(ClusterCommands.Status());
        root.Subcommands.Add(ClusterCommands.Check());
        root.Subcommands.Add(ClusterCommands.Graph());
        root.Subcommands.Add(CompletionCommand.Create());
        root.SetAction(result =>
        {
            root.Parse("--help").Invoke();
            return UsageError;
        });
        ShapeHelp(root);
        return root;
    }

    /// <summary>
    /// Help as people expect it: -h and --help (not the Windows spellings); each command listed by
    /// its summary (the first paragraph of its description), and the rest of its description under
    /// "Details:" at the end of its own --help.
    /// </summary>
    private static void ShapeHelp(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        foreach (var alias in help.Aliases.Where(a => a.StartsWith('/')).ToList())
        {
            help.Aliases.Remove(alias);
        }

        var details = new Dictionary<Command, string>();
        foreach (var (_, command) in Walk(root, hidden: true))
        {
            var text = command.Description ?? "";
            var split = text.IndexOf("\n\n", StringComparison.Ordinal);
            if (split > 0)
            {
                command.Description = text[..split];
                details[command] = text[(split + 2)..];
            }
        }

        help.Action = new HelpWithDetails(help.Action!, details);
    }

    /// <summary>The built-in help, then the command's details.</summary>
    private sealed class HelpWithDetails(CommandLineAction builtIn, IReadOnlyDictionary<Command, string> details) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            ArgumentNullException.ThrowIfNull(parseResult);
            var code = ((SynchronousCommandLineAction)builtIn).Invoke(parseResult);
            if (details.TryGetValue(parseResult.CommandResult.Command, out var text))
            {
                Console.WriteLine("Details:");
                foreach (var line in text.Split('\n'))
                {
                    Console.WriteLine(line.Length == 0 ? "" : "  " + line);
                }

                Console.WriteLine();
            }

            return code;
        }
    }

    /// <summary>
    /// Runs a command line. Exit codes: what the command returns; <see cref="UsageError"/> when the
    /// line cannot be run (the reason, and where to read the usage, on stderr); 1 when an input
    /// file is invalid.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var parsed = Build().Parse(args);
        if (parsed.Action is ParseErrorAction action)
        {
            // The errors and the nearest names, all on stderr; the whole help would bury them.
            action.ShowHelp = false;
            action.ShowTypoCorrections = true;
            parsed.Invoke(new InvocationConfiguration { Output = Console.Error, Error = Console.Error });
            Console.Error.WriteLine($"see '{PathOf(parsed.CommandResult)} --help'");
            return UsageError;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"{PathOf(parsed.CommandResult)}: {e.Message}");
            Console.Error.WriteLine($"see '{PathOf(parsed.CommandResult)} --help'");
            return UsageError;
        }
        catch (InvalidSpecException e)
        {
            Console.Error.WriteLine($"{PathOf(parsed.CommandResult)}: {e.Message}");
            return 1;
        }
    }

    /// <summary>Every command of the tree with its path ("re6st lab up"), for the tests that walk it.</summary>
    public static IEnumerable<(string Path, Command Command)> Walk(Command command, string path = "re6st", bool hidden = false)
    {
        ArgumentNullException.ThrowIfNull(command);
        yield return (path, command);
        foreach (var sub in command.Subcommands.Where(c => hidden || !c.Hidden))
        {
            foreach (var inner in Walk(sub, $"{path} {sub.Name}", hidden))
            {
                yield return inner;
            }
        }
    }

    /// <summary>"re6st lab up" for the command a line reached.</summary>
    private static string PathOf(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c; r = r.Parent)
        {
            names.Add(c.Command is RootCommand ? "re6st" : c.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>On a system other than Linux, a command that says it needs Linux.</summary>
    private static Command LinuxOnly(string name, string why)
    {
        var command = new Command(name, $"{why}: Linux only");
        command.SetAction(int (_) => throw new UsageException($"{why}: Linux only"));
        return command;
    }
}
