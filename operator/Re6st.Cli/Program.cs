using Re6st.Cli;
using Re6st.Core.Validation;

const string usage = """
    usage: re6st <command> [arguments]

      sim     simulate a mesh of N nodes with the core's own policy code (re6st sim --help)
    """;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(usage);
    return args.Length == 0 ? 2 : 0;
}

try
{
    return args[0] switch
    {
        "sim" => SimCommand.Run(args[1..]),
        _ => throw new UsageException($"unknown command '{args[0]}'"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"re6st {args[0]}: {e.Message}");
    Console.Error.WriteLine(args[0] == "sim" ? SimCommand.Usage : usage);
    return 2;
}
catch (InvalidSpecException e)
{
    Console.Error.WriteLine($"re6st {args[0]}: {e.Message}");
    return 1;
}
