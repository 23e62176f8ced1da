namespace Re6st.Agent.Tests;

/// <summary>
/// Golden files under golden/: compared with what the code renders, or rewritten in the source
/// tree with RE6ST_UPDATE_GOLDEN=1 (review the diff before keeping it).
/// </summary>
internal static class Golden
{
    private const string UpdateVariable = "RE6ST_UPDATE_GOLDEN";

    public static void AssertMatches(string fileName, string actual)
    {
        var path = Path.Combine(Directory(), fileName);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing; run the tests with {UpdateVariable}=1 to create it");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(expected == actual, $"{fileName} differs from what the code renders:\n--- expected\n{expected}\n--- actual\n{actual}\nIf the change is intended, run the tests with {UpdateVariable}=1 and review the diff.");
    }

    private static string Directory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Re6st.Agent.Tests.csproj")))
            {
                return Path.Combine(dir.FullName, "golden");
            }
        }

        // Installed test binaries without the source tree: the copies next to the assembly.
        return Path.Combine(AppContext.BaseDirectory, "golden");
    }
}
