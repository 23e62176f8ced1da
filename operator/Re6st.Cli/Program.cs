using Re6st.Cli;
using Re6st.Core.Validation;

const string usage = """
    usage: re6st <command> [arguments]

      sim     simulate a mesh of N nodes with the core's own policy code (re6st sim --help)
      lab     the whole system on this machine: re6st lab up | status | down (re6st lab --help)
      bench   benchmarks that print figures (re6st bench operator --help)
      drill   fault-injection drills that print figures (re6st drill soak --help)
      crds    write the CRD YAML generated from the resource types (re6st crds [--out DIR], default crds/)
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
        "crds" => CrdsCommand.Run(args[1..]),
        "lab" when OperatingSystem.IsLinux() => await LabCommand.RunAsync(args[1..]),
        "lab" => throw new UsageException("the lab runs hosts as network namespaces: Linux only"),
        "bench" when OperatingSystem.IsLinux() => await BenchCommand.RunAsync(args[1..]),
        "bench" => throw new UsageException("the benchmarks run a local kube-apiserver and network namespaces: Linux only"),
        "drill" when OperatingSystem.IsLinux() => await DrillCommand.RunAsync(args[1..]),
        "drill" => throw new UsageException("the drills run hosts as network namespaces: Linux only"),
        _ => throw new UsageException($"unknown command '{args[0]}'"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"re6st {args[0]}: {e.Message}");
    Console.Error.WriteLine(args[0] switch { "sim" => SimCommand.Usage, "bench" when OperatingSystem.IsLinux() => BenchCommand.Usage, "lab" when OperatingSystem.IsLinux() => LabCommand.Usage, "drill" when OperatingSystem.IsLinux() => DrillCommand.Usage, _ => usage });
    return 2;
}
catch (InvalidSpecException e)
{
    Console.Error.WriteLine($"re6st {args[0]}: {e.Message}");
    return 1;
}
