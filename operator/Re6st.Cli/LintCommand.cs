using System.Text.Json;
using Re6st.Operator.Lint;

namespace Re6st.Cli;

/// <summary><c>re6st lint FILE|DIR...</c>: the API server's and the operator's checks on re6st resources before they are applied.</summary>
public static class LintCommand
{
    public const string Usage = """
        usage: re6st lint [--json] FILE|DIR...

          Checks the Mesh and RandomizationPolicy objects (and MeshNodes) in YAML or JSON files before
          they are applied: the CRD schema as the API server applies it, then what the operator checks
          before it plans, with the field and the reason, and the principle warnings. A folder stands
          for its *.yaml, *.yml and *.json files. Objects of other kinds are left alone.

          --json   one JSON object per finding: file, object, severity, message

        exit code: 0 no error (warnings may be printed), 1 an error, 2 a file cannot be read
        """;

    public static int Run(string[] args)
    {
        if (args.Any(a => a is "-h" or "--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var json = args.Contains("--json", StringComparer.Ordinal);
        var unknown = args.FirstOrDefault(a => a.StartsWith('-') && a != "--json");
        if (unknown is not null)
        {
            throw new UsageException($"unknown argument '{unknown}'");
        }

        var paths = args.Where(a => !a.StartsWith('-')).ToList();
        if (paths.Count == 0)
        {
            throw new UsageException("name at least one file or folder");
        }

        var files = new List<(string File, string Text)>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path)
                    .Where(f => Path.GetExtension(f) is ".yaml" or ".yml" or ".json")
                    .Order(StringComparer.Ordinal)
                    .Select(f => (f, File.ReadAllText(f))));
            }
            else if (File.Exists(path))
            {
                files.Add((path, File.ReadAllText(path)));
            }
            else
            {
                Console.Error.WriteLine($"re6st lint: {path}: no such file or folder");
                return 2;
            }
        }

        var findings = ManifestLint.Run(files);
        foreach (var finding in findings)
        {
            Console.WriteLine(json
                ? JsonSerializer.Serialize(new { file = finding.File, @object = finding.Resource, severity = finding.Severity == LintSeverity.Error ? "error" : "warning", message = finding.Message })
                : finding.ToString());
        }

        var errors = findings.Count(f => f.Severity == LintSeverity.Error);
        if (!json)
        {
            Console.WriteLine($"{files.Count} file(s): {errors} error(s), {findings.Count - errors} warning(s)");
        }

        return errors > 0 ? 1 : 0;
    }
}
