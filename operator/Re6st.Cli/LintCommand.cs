using System.CommandLine;
using System.Text.Json;
using Re6st.Operator.Lint;

namespace Re6st.Cli;

/// <summary><c>re6st lint FILE|DIR...</c>: the API server's and the operator's checks on re6st resources before they are applied.</summary>
public static class LintCommand
{
    public static Command Create()
    {
        var json = CliOptions.Flag("--json", "one JSON object per finding: file, object, severity, message");
        var paths = new Argument<string[]>("FILE|DIR") { Arity = ArgumentArity.OneOrMore, Description = "files, or folders standing for their *.yaml, *.yml and *.json files" };
        var command = new Command("lint", """
            Checks Mesh and RandomizationPolicy files before they are applied.

            Checks the Mesh and RandomizationPolicy objects (and MeshNodes) in YAML or JSON files before
            they are applied: the CRD schema as the API server applies it, then what the operator checks
            before it plans, with the field and the reason, and the principle warnings. Objects of other
            kinds are left alone.
            Exit code: 0 no error (warnings may be printed), 1 an error, 2 a file cannot be read.
            """).With(json, paths);
        command.SetAction(r => (r.GetValue(paths) ?? []) is var named && named.FirstOrDefault(p => p.StartsWith('-')) is { } unknown
            ? throw new UsageException($"unknown option '{unknown}'")
            : Run(named, r.GetValue(json)));
        return command;
    }

    /// <summary>Lints the files and folders; the exit code of <c>re6st lint</c>.</summary>
    public static int Run(IReadOnlyList<string> paths, bool json)
    {
        ArgumentNullException.ThrowIfNull(paths);
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
