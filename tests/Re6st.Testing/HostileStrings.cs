using System.Text.Json;

namespace Re6st.Testing;

/// <summary>
/// Strings built to break a parser or to reach a configuration file or a command line: injections
/// (newlines, shell and babeld.conf syntax, option-like words), addresses no tunnel may dial,
/// near-miss keys, fingerprints and names, control characters, and long ones. The corpus is kept
/// in the repository (tests/corpus/hostile-strings.json); the fuzz passes draw from it as well as
/// from random strings.
/// </summary>
public static class HostileStrings
{
    public static IReadOnlyList<string> All { get; } =
    [
        .. JsonSerializer.Deserialize<string[]>(File.ReadAllText(Repository.PathOf("tests", "corpus", "hostile-strings.json")))!,
        new string('a', 100_000),
        string.Concat(Enumerable.Repeat("a.", 200)) + "b",
        new string('\n', 1000),
    ];
}
