using Re6st.Lab.Kube;
using Re6st.Testing;

namespace Re6st.Lab.Tests.RealNodes;

/// <summary>
/// The lab builds its images from what the Dockerfiles say (release, package list, entrypoint, user),
/// so the images users build with an engine and the ones the lab runs stay the same.
/// </summary>
public sealed class ImageDefinitionTests
{
    [Fact]
    public void TheAgentsDockerfile_NamesItsReleasePackagesAndEntrypoint()
    {
        var image = DockerfileImage.Parse("agent", File.ReadAllText(Repository.PathOf("node-daemonset", "Dockerfile")));

        Assert.Equal("bookworm", image.Suite);
        Assert.Equal(["/opt/re6st/re6st-agent"], image.Entrypoint);
        Assert.Null(image.User);
        Assert.Equal([9652], image.ExposedPorts);
        var packages = DockerfileImage.ReadPackages(Repository.PathOf(image.PackagesFile));
        Assert.Superset(new HashSet<string> { "babeld", "wireguard-go", "wireguard-tools", "openvpn", "nftables", "iproute2" }, packages.ToHashSet());
    }

    [Fact]
    public void TheOperatorsDockerfile_RunsAsAnUnprivilegedUser()
    {
        var image = DockerfileImage.Parse("operator", File.ReadAllText(Repository.PathOf("operator", "Re6st.Operator", "Dockerfile")));

        Assert.Equal(["/opt/re6st/re6st-operator"], image.Entrypoint);
        Assert.Equal("65532:65532", image.User);
        Assert.Contains("ca-certificates", DockerfileImage.ReadPackages(Repository.PathOf(image.PackagesFile)));
    }

    [Theory]
    [InlineData("FROM debian:bookworm\nCOPY x /tmp/image-packages\nENTRYPOINT [\"/a\"]", "FROM debian:<release>-slim")]
    [InlineData("FROM debian:bookworm-slim\nENTRYPOINT [\"/a\"]", "no package list")]
    [InlineData("FROM debian:bookworm-slim\nCOPY x /tmp/image-packages", "no ENTRYPOINT")]
    public void ADockerfileTheLabCannotFollow_IsRefusedWithTheReason(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => DockerfileImage.Parse("Dockerfile", text));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
