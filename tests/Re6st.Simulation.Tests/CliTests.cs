using Re6st.Cli;

namespace Re6st.Simulation.Tests;

public sealed class CliTests
{
    [Theory]
    [InlineData(new[] { "--order", "2" }, "--nodes is required")]
    [InlineData(new[] { "--nodes", "1" }, "--nodes must be a whole number from 2 to 5000000 (got '1')")]
    [InlineData(new[] { "--nodes", "100", "--order", "4" }, "--order must be a whole number from 1 to 3 (got '4')")]
    [InlineData(new[] { "--nodes", "ten" }, "--nodes must be a whole number")]
    [InlineData(new[] { "--nodes", "100", "--seed", "-3" }, "--seed must be a non-negative whole number (got '-3')")]
    [InlineData(new[] { "--nodes", "100", "--bogus" }, "unknown argument '--bogus'")]
    [InlineData(new[] { "--nodes" }, "--nodes needs a value")]
    public void Sim_BadArguments_SayWhichAndWhy(string[] args, string message)
    {
        var e = Assert.Throws<UsageException>(() => SimCommand.Run(args));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_ExitsOneOnAnError_ZeroOnWarningsOnly_TwoOnAMissingFile()
    {
        var folder = Directory.CreateTempSubdirectory("re6st-lint-");
        try
        {
            var good = Path.Combine(folder.FullName, "good.yaml");
            File.WriteAllText(good, "apiVersion: re6st.io/v1alpha1\nkind: RandomizationPolicy\nmetadata:\n  name: p\nspec:\n  arrowsPerNode: 2\n");
            var bad = Path.Combine(folder.FullName, "bad.yml");
            File.WriteAllText(bad, "apiVersion: re6st.io/v1alpha1\nkind: Mesh\nmetadata:\n  name: m\nspec:\n  order: 1\n");

            Assert.Equal(0, LintCommand.Run([good]));
            Assert.Equal(1, LintCommand.Run([folder.FullName]));
            Assert.Equal(1, LintCommand.Run(["--json", bad]));
            Assert.Equal(2, LintCommand.Run([Path.Combine(folder.FullName, "missing.yaml")]));
            Assert.Contains("unknown argument '--strict'", Assert.Throws<UsageException>(() => LintCommand.Run(["--strict", good])).Message, StringComparison.Ordinal);
            Assert.Contains("name at least one file", Assert.Throws<UsageException>(() => LintCommand.Run([])).Message, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Help_IsAnsweredByEveryCommandAndSubCommand()
    {
        Assert.Equal(0, await Re6stCommand.RunAsync(["--help"]));
        foreach (var (command, subCommands) in Re6stCommand.Commands)
        {
            Assert.True(await Re6stCommand.RunAsync([command, "--help"]) == 0, $"re6st {command} --help");
            foreach (var sub in subCommands)
            {
                Assert.True(await Re6stCommand.RunAsync([command, sub, "--help"]) == 0, $"re6st {command} {sub} --help");
            }
        }
    }

    [Fact]
    public async Task ATypo_IsAUsageError_ThatSuggestsTheCommand()
    {
        var error = new StringWriter();
        var before = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(2, await Re6stCommand.RunAsync(["lnit", "x.yaml"]));
        }
        finally
        {
            Console.SetError(before);
        }

        Assert.Contains("unknown command 'lnit'; did you mean 'lint'?", error.ToString(), StringComparison.Ordinal);
    }
}
