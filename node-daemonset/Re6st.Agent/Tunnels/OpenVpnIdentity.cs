using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Re6st.Agent.Tunnels;

/// <summary>
/// A host's OpenVPN identity: a self-signed ECDSA P-256 certificate and its key, made once and kept
/// in the state directory. There is no CA, so no node can vouch for another: a peer is pinned by the
/// <see cref="Fingerprint"/> it publishes (SHA-256 of the certificate, OpenVPN's colon-hex form).
/// </summary>
public sealed record OpenVpnIdentity(string CertificatePath, string KeyPath, string Fingerprint)
{
    private const int FingerprintBytes = 32;

    /// <summary>Loads the identity in <paramref name="stateDirectory"/>, creating it on first use.</summary>
    public static async Task<OpenVpnIdentity> LoadOrCreateAsync(string stateDirectory, string commonName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commonName);
        Directory.CreateDirectory(stateDirectory);
        var certificatePath = Path.Combine(stateDirectory, "openvpn.crt");
        var keyPath = Path.Combine(stateDirectory, "openvpn.key");

        // The certificate is written last, so its presence means the pair is complete.
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            await CreateAsync(certificatePath, keyPath, commonName, cancellationToken).ConfigureAwait(false);
        }

        // Loading both also proves the key belongs to the certificate.
        using var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        return new OpenVpnIdentity(certificatePath, keyPath, FingerprintOf(certificate));
    }

    public static string FingerprintOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Format(SHA256.HashData(certificate.RawData));
    }

    /// <summary>
    /// The canonical form (upper-case colon-hex) of a published fingerprint, case and colons
    /// optional; throws when it is not a SHA-256 fingerprint.
    /// </summary>
    public static string NormalizeFingerprint(string fingerprint)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        var hex = fingerprint.Trim().Replace(":", "", StringComparison.Ordinal);
        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            bytes = [];
        }

        return bytes.Length == FingerprintBytes
            ? Format(bytes)
            : throw new ArgumentException($"'{fingerprint}' is not a SHA-256 certificate fingerprint (32 colon-separated hex bytes)", nameof(fingerprint));
    }

    private static string Format(byte[] hash) => string.Join(':', hash.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    private static async Task CreateAsync(string certificatePath, string keyPath, string commonName, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedNameBuilder();
        name.AddCommonName(commonName);
        var request = new CertificateRequest(name.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));

        // The pin is the whole certificate, so it never needs renewing: 9999-12-31 23:59:59 is
        // RFC 5280's "no well-defined expiration date". A day of slack covers skewed peer clocks.
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero));

        await WritePrivateAsync(keyPath, key.ExportPkcs8PrivateKeyPem(), cancellationToken).ConfigureAwait(false);
        await WritePrivateAsync(certificatePath, certificate.ExportCertificatePem(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Created 0600 from the start and renamed into place: never readable by others, never half written.</summary>
    private static async Task WritePrivateAsync(string path, string pem, CancellationToken cancellationToken)
    {
        var temporary = path + ".new";
        File.Delete(temporary);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        var stream = new FileStream(temporary, options);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(pem + "\n"), cancellationToken).ConfigureAwait(false);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
