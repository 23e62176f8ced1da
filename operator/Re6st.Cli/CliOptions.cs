using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Re6st.Cli;

/// <summary>
/// How the commands declare their options (System.CommandLine): whole numbers checked against their
/// range, with the option, the range and what was typed in the error; flags; texts; and the options
/// several commands share.
/// </summary>
public static class CliOptions
{
    /// <summary>
    /// A whole number from <paramref name="min"/> to <paramref name="max"/>; "100_000" reads as
    /// 100000. Without a <paramref name="fallback"/>, the command chooses the default (see <see cref="Typed"/>).
    /// </summary>
    public static Option<int> Number(string name, string helpName, string description, int? fallback, int min, int max) => Checked(
        name,
        helpName,
        $"{description} ({min.ToString("N0", CultureInfo.InvariantCulture)} to {max.ToString("N0", CultureInfo.InvariantCulture)})",
        fallback,
        text => int.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max ? n : null,
        $"must be a whole number from {min} to {max}");

    /// <summary>A seed: any non-negative whole number.</summary>
    public static Option<ulong> Seed(string description, ulong? fallback) => Checked(
        "--seed",
        "S",
        description,
        fallback,
        text => ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null,
        "must be a non-negative whole number");

    /// <summary>An option whose value <paramref name="parse"/> reads (null: not valid), the error "NAME REQUIREMENT (got 'TEXT')".</summary>
    private static Option<T> Checked<T>(string name, string helpName, string description, T? fallback, Func<string, T?> parse, string requirement)
        where T : struct
    {
        var option = new Option<T>(name)
        {
            HelpName = helpName,
            Description = description,
            CustomParser = r =>
            {
                if (r.Tokens.Count == 0)
                {
                    return fallback ?? default;
                }

                var text = r.Tokens[0].Value;
                if (parse(text) is { } value)
                {
                    return value;
                }

                r.AddError($"{name} {requirement} (got '{text}')");
                return default;
            },
        };
        if (fallback is { } value)
        {
            option.DefaultValueFactory = _ => value;
        }

        return option;
    }

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    public static Option<string> Text(string name, string helpName, string description, params string[] aliases) =>
        new(name, aliases) { HelpName = helpName, Description = description };

    /// <summary><c>--json FILE</c> of the benchmarks and drills: the JSON is printed, and written to FILE too.</summary>
    public static Option<string> JsonFile() => Text("--json", "FILE", "also write the JSON to FILE");

    /// <summary>
    /// <c>--repository</c>: the checkout whose chart, images and tools to use (default: the one this
    /// program runs from). Hidden: the tests name theirs; a user runs ./re6st from the checkout.
    /// </summary>
    public static Option<string> Repository() => new("--repository") { Hidden = true, HelpName = "DIR" };

    /// <summary>The repository <see cref="Repository"/> names, else the checkout this program runs from.</summary>
    public static string RepositoryOf(this ParseResult result, Option<string> repository)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.GetValue(repository) ?? CrdsCommand.RepositoryRoot();
    }

    /// <summary>Whether the option was typed (a default value does not count).</summary>
    public static bool Typed(this ParseResult result, Option option)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.GetResult(option) is { Implicit: false };
    }

    /// <summary>Adds options to a command and returns it, so a command reads as one expression.</summary>
    public static T With<T>(this T command, params Symbol[] symbols)
        where T : Command
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Option o:
                    command.Options.Add(o);
                    break;
                case Argument a:
                    command.Arguments.Add(a);
                    break;
                case Command c:
                    command.Subcommands.Add(c);
                    break;
                default:
                    throw new ArgumentException($"cannot add a {symbol.GetType().Name} to a command", nameof(symbols));
            }
        }

        return command;
    }
}
