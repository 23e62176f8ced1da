using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Re6st.Lab.Kube;

/// <summary>
/// The certificates of a real-node lab's cluster, as kubeadm would make them: one CA; the API
/// server's serving certificate (its address, the kubernetes Service's address and names) and its
/// client certificate towards kubelets; a client certificate per component, whose subject is the
/// identity RBAC and the Node authorizer know (system:kube-scheduler, system:node:NAME in
/// system:nodes...); and the service-account signing key. Written as PEM files in one folder.
/// </summary>
public sealed class ClusterPki
{
    private readonly string _directory;
    private readonly X509Certificate2 _ca;

    private ClusterPki(string directory, X509Certificate2 ca)
    {
        _directory = directory;
        _ca = ca;
    }

    public string CaFile => Path.Combine(_directory, "ca.crt");

    public string ServiceAccountKey => Path.Combine(_directory, "sa.key");

    public string ServiceAccountPublicKey => Path.Combine(_directory, "sa.pub");

    public static ClusterPki Create(string directory)
    {
        Directory.CreateDirectory(directory);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=re6st-lab-ca", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
        File.WriteAllText(Path.Combine(directory, "ca.crt"), ca.ExportCertificatePem());
        WriteSecret(Path.Combine(directory, "ca.key"), key.ExportRSAPrivateKeyPem());
        using (var sa = RSA.Create(2048))
        {
            WriteSecret(Path.Combine(directory, "sa.key"), sa.ExportRSAPrivateKeyPem());
            File.WriteAllText(Path.Combine(directory, "sa.pub"), sa.ExportSubjectPublicKeyInfoPem());
        }

        return new ClusterPki(directory, ca);
    }

    /// <summary>A serving certificate for <paramref name="addresses"/> and <paramref name="names"/>; returns (certificate file, key file).</summary>
    public (string Certificate, string Key) Serving(string name, IEnumerable<IPAddress> addresses, IEnumerable<string> names)
    {
        var san = new SubjectAlternativeNameBuilder();
        foreach (var address in addresses)
        {
            san.AddIpAddress(address);
        }

        foreach (var dns in names)
        {
            san.AddDnsName(dns);
        }

        return Issue(name, $"CN={name}", san.Build(), "1.3.6.1.5.5.7.3.1");
    }

    /// <summary>A client certificate for user <paramref name="user"/> in <paramref name="groups"/>; returns (certificate file, key file).</summary>
    public (string Certificate, string Key) Client(string fileName, string user, params string[] groups)
    {
        var subject = new StringBuilder("CN=").Append(user);
        foreach (var group in groups)
        {
            subject.Append(", O=").Append(group);
        }

        return Issue(fileName, subject.ToString(), null, "1.3.6.1.5.5.7.3.2");
    }

    /// <summary>A kubeconfig at <paramref name="path"/> for a client certificate of <paramref name="user"/>, talking to <paramref name="server"/>.</summary>
    public string Kubeconfig(string path, string server, string user, params string[] groups)
    {
        var (certificate, key) = Client(Path.GetFileNameWithoutExtension(path), user, groups);
        static string Data(string file) => Convert.ToBase64String(File.ReadAllBytes(file));
        WriteSecret(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: lab
              cluster:
                server: {server}
                certificate-authority-data: {Data(CaFile)}
            users:
            - name: {user}
              user:
                client-certificate-data: {Data(certificate)}
                client-key-data: {Data(key)}
            contexts:
            - name: lab
              context:
                cluster: lab
                user: {user}
            current-context: lab

            """);
        return path;
    }

    private (string Certificate, string Key) Issue(string fileName, string subject, X509Extension? san, string usage)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        if (san is not null)
        {
            request.CertificateExtensions.Add(san);
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var certificate = request.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1), serial);
        var certificatePath = Path.Combine(_directory, fileName + ".crt");
        var keyPath = Path.Combine(_directory, fileName + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        WriteSecret(keyPath, key.ExportRSAPrivateKeyPem());
        return (certificatePath, keyPath);
    }

    private static void WriteSecret(string path, string text)
    {
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
