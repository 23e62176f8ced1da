using Re6st.Operator.Crds;

namespace Re6st.Cli;

public static class CrdsCommand
{
    public const string Usage = """
        usage: re6st crds [--out DIR]

          Writes the CRD YAML generated from the resource types, one file per resource, into DIR
          (default: crds/ of the checkout). A test fails when the committed files are stale.
        """;

    public static int Run(string[] args)
    {
        var a = new Arguments(args, new HashSet<string> { "--out" }, new HashSet<string> { "--help" });
        if (a.Has("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var dir = a.Text("--out") ?? Path.Combine(RepositoryRoot(), "crds");
        Directory.CreateDirectory(dir);
        foreach (var (name, yaml) in CrdGenerator.Files())
        {
            var path = Path.Combine(dir, name);
            File.WriteAllText(path, yaml);
            Console.WriteLine($"wrote {path}");
        }

        return 0;
    }

    /// <summary>The checkout this program runs from (the folder holding Re6st.Operator.sln), else the current folder.</summary>
    public static string RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Re6st.Operator.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return Environment.CurrentDirectory;
    }
}
