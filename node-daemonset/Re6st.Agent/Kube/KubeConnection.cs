using System.Security.Cryptography.X509Certificates;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace Re6st.Agent.Kube;

/// <summary>
/// Where the API server is and how to authenticate: from the pod's service account (in a cluster)
/// or from a kubeconfig file's current context (a server, its CA or insecure-skip-tls-verify, and
/// a bearer token, a token file or a client certificate).
/// </summary>
public sealed record KubeConnection(Uri Server)
{
    private const string ServiceAccount = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>The CA that signs the server's certificate; null: the system's trust store.</summary>
    public X509Certificate2Collection? Authority { get; init; }

    public bool SkipTlsVerify { get; init; }

    public string? Token { get; init; }

    /// <summary>Read before each request: a projected service-account token is rotated in place.</summary>
    public string? TokenFile { get; init; }

    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>The pod's service account, as a DaemonSet pod mounts it.</summary>
    public static KubeConnection InCluster()
    {
        var host = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        var port = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            throw new InvalidDataException("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (use --kubeconfig)");
        }

        return new KubeConnection(new UriBuilder("https", host, int.Parse(port, System.Globalization.CultureInfo.InvariantCulture)).Uri)
        {
            Authority = Pem(File.ReadAllText(Path.Combine(ServiceAccount, "ca.crt"))),
            TokenFile = Path.Combine(ServiceAccount, "token"),
        };
    }

    /// <summary>The current context of the kubeconfig <paramref name="path"/>.</summary>
    public static KubeConnection FromKubeconfig(string path)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }

        var root = yaml.Documents is [{ RootNode: YamlMappingNode map }] ? map : throw new InvalidDataException($"{path}: not a kubeconfig");
        var contextName = Text(root, "current-context") ?? throw new InvalidDataException($"{path}: no current-context");
        var context = Named(root, "contexts", contextName, "context", path);
        var cluster = Named(root, "clusters", Text(context, "cluster") ?? "", "cluster", path);
        var user = Text(context, "user") is { } userName ? Named(root, "users", userName, "user", path) : null;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string? Read(YamlMappingNode? node, string data, string file) =>
            node is null ? null
            : Text(node, data) is { } encoded ? Encoding.UTF8.GetString(Convert.FromBase64String(encoded))
            : Text(node, file) is { } name ? File.ReadAllText(Path.Combine(directory, name))
            : null;

        var server = Text(cluster, "server") ?? throw new InvalidDataException($"{path}: cluster without a server");
        var certificate = Read(user, "client-certificate-data", "client-certificate");
        var key = Read(user, "client-key-data", "client-key");
        var tokenFile = user is null ? null : Text(user, "tokenFile");
        return new KubeConnection(new Uri(server))
        {
            Authority = Read(cluster, "certificate-authority-data", "certificate-authority") is { } ca ? Pem(ca) : null,
            SkipTlsVerify = Text(cluster, "insecure-skip-tls-verify") == "true",
            Token = user is null ? null : Text(user, "token"),
            TokenFile = tokenFile is null ? null : Path.Combine(directory, tokenFile),
            ClientCertificate = certificate is not null && key is not null ? X509Certificate2.CreateFromPem(certificate, key) : null,
        };
    }

    private static X509Certificate2Collection Pem(string pem)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(pem);
        return certificates;
    }

    private static string? Text(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode { Value: { } text } ? text : null;

    /// <summary>The <paramref name="field"/> mapping of the entry named <paramref name="name"/> in the list <paramref name="list"/>.</summary>
    private static YamlMappingNode Named(YamlMappingNode root, string list, string name, string field, string path) =>
        root.Children.TryGetValue(new YamlScalarNode(list), out var entries) && entries is YamlSequenceNode sequence
        && sequence.Children.OfType<YamlMappingNode>().FirstOrDefault(e => Text(e, "name") == name) is { } entry
        && entry.Children.TryGetValue(new YamlScalarNode(field), out var value) && value is YamlMappingNode mapping
            ? mapping
            : throw new InvalidDataException($"{path}: no {list} entry named '{name}'");
}
