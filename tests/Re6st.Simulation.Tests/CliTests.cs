using Re6st.Cli;
using Re6st.Runtime;

namespace Re6st.Simulation.Tests;

// The console is the program's interface: these tests swap Console.Out and Console.Error, so they
// run one at a time.
[Collection(nameof(CliTests))]
[CollectionDefinition(nameof(CliTests), DisableParallelization = true)]
public sealed class CliTests
{
    [Theory]
    [InlineData(new[] { "--order", "2" }, "Option '--nodes' is required")]
    [InlineData(new[] { "--nodes", "1" }, "--nodes must be a whole number from 2 to 5000000 (got '1')")]
    [InlineData(new[] { "--nodes=1" }, "--nodes must be a whole number from 2 to 5000000 (got '1')")]
    [InlineData(new[] { "--nodes", "100", "--order", "4" }, "--order must be a whole number from 1 to 3 (got '4')")]
    [InlineData(new[] { "--nodes", "ten" }, "--nodes must be a whole number from 2 to 5000000 (got 'ten')")]
    [InlineData(new[] { "--nodes", "100", "--seed", "-3" }, "--seed must be a non-negative whole number (got '-3')")]
    [InlineData(new[] { "--nodes", "100", "--bogus" }, "Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "--nodes" }, "Required argument missing for option: '--nodes'")]
    public async Task Sim_BadArguments_AreAUsageError_ThatSaysWhichAndWhy(string[] args, string message)
    {
        var (code, _, error) = await RunAsync(["sim", .. args]);
        Assert.Equal(Re6stCommand.UsageError, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains("see 're6st sim --help'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sim_TakesOptionsAsNameValueAndNameEqualsValue()
    {
        var (code, output, error) = await RunAsync(["sim", "--nodes=60", "--order", "2", "--churn-periods=0", "--pairs", "50", "--scenario-pairs", "20", "--quiet"]);
        Assert.True(code == 0, error);
        Assert.Contains("re6st sim: 60 nodes, order 2", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lint_ExitsOneOnAnError_ZeroOnWarningsOnly_TwoOnAMissingFileOrAUsageError()
    {
        var folder = Directory.CreateTempSubdirectory("re6st-lint-");
        try
        {
            var good = Path.Combine(folder.FullName, "good.yaml");
            File.WriteAllText(good, "apiVersion: re6st.io/v1alpha1\nkind: RandomizationPolicy\nmetadata:\n  name: p\nspec:\n  arrowsPerNode: 2\n");
            var bad = Path.Combine(folder.FullName, "bad.yml");
            File.WriteAllText(bad, "apiVersion: re6st.io/v1alpha1\nkind: Mesh\nmetadata:\n  name: m\nspec:\n  order: 1\n");

            Assert.Equal(0, (await RunAsync(["lint", good])).Code);
            Assert.Equal(1, (await RunAsync(["lint", folder.FullName])).Code);
            Assert.Equal(1, (await RunAsync(["lint", "--json", bad])).Code);
            Assert.Equal(2, (await RunAsync(["lint", Path.Combine(folder.FullName, "missing.yaml")])).Code);
            var (code, _, error) = await RunAsync(["lint", "--strict", good]);
            Assert.Equal(Re6stCommand.UsageError, code);
            Assert.Contains("re6st lint: unknown option '--strict'", error, StringComparison.Ordinal);
            (code, _, error) = await RunAsync(["lint"]);
            Assert.Equal(Re6stCommand.UsageError, code);
            Assert.Contains("Required argument 'FILE|DIR' missing", error, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Help_IsAnsweredByEveryCommandInTheTree_WithItsUsageAndOptions()
    {
        var commands = Re6stCommand.Walk(Re6stCommand.Build()).ToList();
        Assert.Contains(commands, c => c.Path == "re6st lab up");
        Assert.Contains(commands, c => c.Path == "re6st bench pods");
        Assert.Contains(commands, c => c.Path == "re6st drill soak");
        foreach (var (path, command) in commands)
        {
            foreach (var help in new[] { "--help", "-h" })
            {
                var (code, output, error) = await RunAsync([.. path.Split(' ').Skip(1), help]);
                Assert.True(code == 0, $"{path} {help}: exit {code}\n{error}");
                Assert.Contains($"Usage:\n  {path}", output.Replace("re6st.dll", "re6st", StringComparison.Ordinal).Replace("testhost", "re6st", StringComparison.Ordinal), StringComparison.Ordinal);
                foreach (var option in command.Options.Where(o => !o.Hidden))
                {
                    Assert.Contains(option.Name, output, StringComparison.Ordinal);
                }
            }
        }
    }

    [Fact]
    public async Task Help_ListsEachCommandByItsSummary_AndShowsTheDetailsInItsOwnHelp()
    {
        var (_, root, _) = await RunAsync(["--help"]);
        Assert.Contains("sim ", root, StringComparison.Ordinal);
        Assert.DoesNotContain("hop stretch", root, StringComparison.Ordinal);
        var (_, sim, _) = await RunAsync(["sim", "--help"]);
        Assert.Contains("Details:", sim, StringComparison.Ordinal);
        Assert.Contains("hop stretch", sim, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoCommand_PrintsTheHelp_AndIsAUsageError()
    {
        var (code, output, _) = await RunAsync([]);
        Assert.Equal(Re6stCommand.UsageError, code);
        Assert.Contains("Commands:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATypo_IsAUsageError_ThatSuggestsTheCommand()
    {
        var (code, _, error) = await RunAsync(["lnit", "x.yaml"]);
        Assert.Equal(Re6stCommand.UsageError, code);
        Assert.Contains("'lnit' was not matched. Did you mean one of the following?\nlint", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSuggestDirective_CompletesCommandsAndOptions()
    {
        Assert.Contains("up", Lines((await RunAsync(["[suggest:5]", "lab u"])).Output));
        Assert.Contains("--kubeconfig", Lines((await RunAsync(["[suggest:9]", "check --k"])).Output));
        Assert.Equal(new[] { "bash", "zsh" }, Lines((await RunAsync(["[suggest:11]", "completion "])).Output).Where(l => !l.StartsWith('-')));
    }

    /// <summary>
    /// The script of `re6st completion bash` in a real bash, against the real program (a copy of
    /// ./re6st pointing at this build): the words it offers at the cursor.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task TheBashScript_CompletesInBash()
    {
        var folder = Directory.CreateTempSubdirectory("re6st-completion-");
        try
        {
            var program = Path.Combine(folder.FullName, "re6st");
            File.WriteAllText(program, $"#!/usr/bin/env bash\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "re6st.dll")}' \"$@\"\n");
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            async Task<string[]> Complete(string line)
            {
                var script = $"""
                    source <('{program}' completion bash)
                    COMP_LINE="{program} {line}"
                    COMP_POINT=${"{"}#COMP_LINE{"}"}
                    read -ra COMP_WORDS <<< "$COMP_LINE"
                    [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
                    COMP_CWORD=$(( ${"{"}#COMP_WORDS[@]{"}"} - 1 ))
                    _re6st_complete
                    printf '%s\n' "${"{"}COMPREPLY[@]{"}"}"
                    """;
                var result = await CommandRunner.RunAsync("bash", ["-c", script], TimeSpan.FromMinutes(1));
                Assert.True(result.ExitCode == 0, result.Error);
                return Lines(result.Output);
            }

            Assert.Equal(new[] { "lab" }, await Complete("la"));
            Assert.Equal(new[] { "status" }, await Complete("lab st"));
            Assert.Equal(new[] { "--nodes" }, await Complete("sim --no"));
            Assert.Equal(new[] { "bash", "zsh" }, (await Complete("completion ")).Where(w => !w.StartsWith('-')));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<(int Code, string Output, string Error)> RunAsync(string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (before, beforeError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var code = await Re6stCommand.RunAsync(args);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(before);
            Console.SetError(beforeError);
        }
    }
}
