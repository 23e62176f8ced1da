using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Re6st.Lab.Kube;

/// <summary>
/// What the last stage of one of the project's Dockerfiles makes: the Debian release it starts from,
/// the file listing its Debian packages, and what it runs. The lab's local image build reads it, so
/// the images it runs and the ones users build with an engine stay the same.
/// </summary>
public sealed partial record DockerfileImage(string Suite, string PackagesFile, IReadOnlyList<string> Entrypoint, string? User, IReadOnlyList<int> ExposedPorts)
{
    /// <summary>Parses <paramref name="dockerfile"/>; every line it needs and cannot find is named in the error.</summary>
    public static DockerfileImage Parse(string dockerfile, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n').Select(l => l.Trim()).ToList();
        var lastFrom = lines.FindLastIndex(l => l.StartsWith("FROM ", StringComparison.Ordinal));
        if (lastFrom < 0)
        {
            throw new FormatException($"{dockerfile}: no FROM line");
        }

        var stage = lines[lastFrom..];
        var suite = SlimDebian().Match(stage[0]) is { Success: true } m
            ? m.Groups[1].Value
            : throw new FormatException($"{dockerfile}: the last stage must start FROM debian:<release>-slim (the lab builds the same release with mmdebstrap), not '{stage[0]}'");
        var packages = stage.Select(l => PackagesCopy().Match(l)).FirstOrDefault(x => x.Success)?.Groups[1].Value
            ?? throw new FormatException($"{dockerfile}: the last stage copies no package list to /tmp/image-packages");
        var entrypoint = stage.LastOrDefault(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal)) is { } e
            ? JsonSerializer.Deserialize<string[]>(e["ENTRYPOINT ".Length..]) ?? []
            : throw new FormatException($"{dockerfile}: the last stage has no ENTRYPOINT");
        var user = stage.LastOrDefault(l => l.StartsWith("USER ", StringComparison.Ordinal))?["USER ".Length..].Trim();
        var ports = stage.Where(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal))
            .SelectMany(l => l["EXPOSE ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.Parse(p.Split('/')[0], CultureInfo.InvariantCulture))
            .ToList();
        return new DockerfileImage(suite, packages, entrypoint, user, ports);
    }

    /// <summary>The Debian packages the list file names (one per line; # starts a comment).</summary>
    public static IReadOnlyList<string> ReadPackages(string path) =>
        [.. File.ReadAllLines(path).Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0)];

    [GeneratedRegex(@"^FROM\s+debian:([a-z]+)-slim(\s|$)")]
    private static partial Regex SlimDebian();

    [GeneratedRegex(@"^COPY\s+(\S+)\s+/tmp/image-packages$")]
    private static partial Regex PackagesCopy();
}
