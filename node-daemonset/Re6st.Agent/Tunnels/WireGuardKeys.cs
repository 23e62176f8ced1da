using Re6st.Agent.Host;

namespace Re6st.Agent.Tunnels;

/// <summary>A host's WireGuard key pair, made by `wg genkey` / `wg pubkey` (.NET has no X25519).</summary>
public sealed record WireGuardKeys(string PrivateKey, string PublicKey)
{
    public static async Task<WireGuardKeys> CreateAsync(HostShell shell, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(shell);
        var privateKey = (await shell.RunCheckedAsync("wg", ["genkey"], cancellationToken).ConfigureAwait(false)).Trim();
        var publicKey = await PublicKeyOfAsync(privateKey, cancellationToken).ConfigureAwait(false);
        return new WireGuardKeys(privateKey, publicKey);
    }

    private static async Task<string> PublicKeyOfAsync(string privateKey, CancellationToken cancellationToken)
    {
        var info = new System.Diagnostics.ProcessStartInfo("wg", "pubkey") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = System.Diagnostics.Process.Start(info) ?? throw new HostCommandException("cannot start wg pubkey");
        await process.StandardInput.WriteLineAsync(privateKey.AsMemory(), cancellationToken).ConfigureAwait(false);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return process.ExitCode == 0 ? output.Trim() : throw new HostCommandException("wg pubkey failed");
    }
}
