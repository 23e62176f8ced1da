using System.Diagnostics;
using System.Reflection;
using Re6st.Core.Randomness;

namespace Re6st.Core.Tests;

/// <summary>
/// The core decides from a snapshot alone. Two guards keep it so: it references nothing but the base
/// library, and operator/Re6st.Core/BannedSymbols.txt (RS0030, an error) bans the clock, ambient
/// randomness, processes, files, sockets and the environment inside it.
/// </summary>
public sealed class CorePurityTests
{
    /// <summary>Base-library assemblies that would still let the core reach the OS.</summary>
    private static readonly string[] ForbiddenPrefixes =
    [
        "System.Net.Http",
        "System.Net.Sockets",
        "System.Net.NameResolution",
        "System.Net.NetworkInformation",
        "System.Net.Ping",
        "System.Diagnostics.Process",
        "System.IO.FileSystem",
        "System.Console",
    ];

    [Fact]
    public void CoreAssembly_References_OnlyTheBaseLibrary()
    {
        var core = typeof(Xoshiro256StarStar).Assembly;
        Assert.Equal("Re6st.Core", core.GetName().Name);
        var framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = core.GetReferencedAssemblies().Select(r => r.Name!).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(references);

        foreach (var name in references)
        {
            // Named like the base library and shipped with the runtime itself (Microsoft.NETCore.App),
            // so neither a package called System.Something nor another project passes.
            var baseName = name is "System" or "netstandard" or "mscorlib" || name.StartsWith("System.", StringComparison.Ordinal);
            Assert.True(baseName, $"Re6st.Core references {name}, which is not part of the base library");
            Assert.True(File.Exists(Path.Combine(framework, name + ".dll")), $"Re6st.Core references {name}, which the runtime in {framework} does not ship");
            var forbidden = ForbiddenPrefixes.FirstOrDefault(p => name.StartsWith(p, StringComparison.Ordinal));
            Assert.True(forbidden is null, $"Re6st.Core references {name}: the core opens no file, socket or process");
        }
    }

    /// <summary>
    /// Builds a copy of the core project (same csproj, BannedSymbols.txt, Directory.*.props and
    /// .editorconfig) whose only source calls banned APIs, and expects RS0030 errors on exactly those lines.
    /// </summary>
    [Fact]
    public async Task CoreProject_ACallToABannedApi_FailsTheBuildWithRS0030()
    {
        string[] source =
        [
            "namespace Re6st.Core;",
            "",
            "public static class Violations",
            "{",
            "    public static DateTime Clock() => DateTime.UtcNow;",
            "    public static int Dice() => Random.Shared.Next();",
            "    public static string? Variable() => Environment.GetEnvironmentVariable(\"HOME\");",
            "    public static bool Exists() => File.Exists(\"/etc/hostname\");",
            "    public static Task Wait() => Task.Delay(TimeSpan.FromSeconds(1));",
            "    public static TimeProvider Time() => TimeProvider.System;",
            "}",
        ];
        int[] violations = [5, 6, 7, 8, 9, 10];

        var root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("re6st-banned-api-");
        try
        {
            var project = Path.Combine(work.FullName, "operator", "Re6st.Core");
            Directory.CreateDirectory(project);
            foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", ".editorconfig", "global.json" })
            {
                File.Copy(Path.Combine(root, file), Path.Combine(work.FullName, file));
            }

            foreach (var file in new[] { "Re6st.Core.csproj", "BannedSymbols.txt" })
            {
                File.Copy(Path.Combine(root, "operator", "Re6st.Core", file), Path.Combine(project, file));
            }

            await File.WriteAllLinesAsync(Path.Combine(project, "Violations.cs"), source);

            var (exitCode, output) = await BuildAsync(Path.Combine(project, "Re6st.Core.csproj"));

            Assert.True(exitCode != 0, $"the build of a core that calls banned APIs succeeded:\n{output}");
            var errors = output.Split('\n').Where(l => l.Contains(": error ", StringComparison.Ordinal)).ToList();
            var others = errors.Where(l => !l.Contains("error RS0030:", StringComparison.Ordinal)).ToList();
            Assert.True(others.Count == 0, $"errors other than RS0030:\n{string.Join('\n', others)}");
            foreach (var line in violations)
            {
                Assert.True(
                    errors.Any(l => l.Contains($"Violations.cs({line},", StringComparison.Ordinal)),
                    $"no RS0030 error for line {line} ({source[line - 1].Trim()}):\n{output}");
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> BuildAsync(string project)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList =
            {
                "build", project, "-c", "Release", "--nologo", "-v", "quiet", "-clp:ErrorsOnly;NoSummary",
                "-m:1", "-nodeReuse:false", "--disable-build-servers", "-p:UseSharedCompilation=false",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // The test host may run under MSBuild; the child build finds its own SDK.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        using var build = Process.Start(info)!;
        var output = Task.WhenAll(build.StandardOutput.ReadToEndAsync(), build.StandardError.ReadToEndAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await build.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            build.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet build of the banned-API probe took more than 3 minutes");
        }

        var text = await output;
        return (build.ExitCode, text[0] + text[1]);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Re6st.Operator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Re6st.Operator.sln above {AppContext.BaseDirectory}");
    }
}
