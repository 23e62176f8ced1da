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
}
