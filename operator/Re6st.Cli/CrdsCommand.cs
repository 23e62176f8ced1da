using System.CommandLine;
using Re6st.Operator.Crds;

namespace Re6st.Cli;

public static class CrdsCommand
{
    public static Command Create()
    {
        var output = CliOptions.Text("--out", "DIR", "where to write them (default: crds/ of the checkout)");
        var command = new Command("crds", """
            Writes the CRD YAML generated from the resource types.

            Writes the CRD YAML generated from the resource types, one file per resource. A test fails
            when the committed files are stale.
            """).With(output);
        command.SetAction(r => Write(r.GetValue(output) ?? Path.Combine(RepositoryRoot(), "crds")));
        return command;
    }

    private static int Write(string dir)
    {
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
