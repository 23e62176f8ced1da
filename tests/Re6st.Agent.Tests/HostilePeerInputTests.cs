using System.Net;
using CsCheck;
using Re6st.Agent.Babel;
using Re6st.Agent.Membership;
using Re6st.Contracts;
using Re6st.Testing;

namespace Re6st.Agent.Tests;

/// <summary>
/// Trust no node, fuzzed: MeshNode statuses a compromised peer could publish (its key, endpoints,
/// fingerprint, arrows, stand-ins) drawn from the hostile corpus (tests/corpus) and from random
/// strings and numbers, and babeld's control-socket lines. The goals: no crash, and no hostile
/// value reaches what the agent acts on (a tunnel's command line, babeld, nft, the view of the
/// mesh): every value that comes out has the one form it may take, and every value dropped is
/// reported. Each pass is bounded by its number of cases; CsCheck prints the seed of a failure.
/// </summary>
public sealed class HostilePeerInputTests
{
    /// <summary>Cases per fuzz pass (the suite runs a few thousand in all, in seconds).</summary>
    private const int Cases = 2_000;

    private const string Key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
    private const string Fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

    private static readonly Gen<string> Hostile = Gen.OneOf(Gen.OneOf([.. HostileStrings.All]), Gen.String, Gen.Char.Array[0, 300].Select(c => new string(c)));

    /// <summary>A field of a status: sometimes what an honest agent writes, mostly hostile, sometimes absent.</summary>
    private static Gen<string?> Field(string honest) => Gen.Frequency((2, Gen.Const((string?)honest)), (6, Hostile.Select(s => (string?)s)), (1, Gen.Const((string?)null)));

    private static readonly Gen<ArrowStatusResource> Arrows =
        Gen.Select(Field("0a1b2c3d4e5f"), Field("b"), Field("root"), Gen.Bool, Gen.Frequency((3, Gen.Int[1, 65535]), (1, Gen.Int)), Field("wireguard"), Field("random"), Gen.Int[-5, 5])
            .Select((id, peer, subMesh, initiated, port, technology, reason, routes) => new ArrowStatusResource
            {
                Id = id,
                Peer = peer!,
                SubMesh = subMesh!,
                Initiated = initiated,
                Port = port,
                State = "active",
                Technology = technology,
                Reason = reason,
                Routes = routes,
            });

    private static readonly Gen<MeshNodeStatus> Statuses =
        Gen.Select(
            Field(Key),
            Field(Fingerprint),
            Field("fd5e:ff::a").List[0, 20],
            Gen.Frequency((20, Arrows.List[0, 30]), (1, Arrows.List[PeerInput.MaxArrows, PeerInput.MaxArrows + 10])),
            Field("c").List[0, 10],
            Field("2026-12-05T12:00:00Z"),
            Gen.Int[-10, 1000])
        .Select((key, fingerprint, endpoints, arrows, standingIn, handOver, routes) => new MeshNodeStatus
        {
            PublicKey = key,
            OpenVpnFingerprint = fingerprint,
            Endpoints = [.. endpoints.OfType<string>()],
            Arrows = arrows,
            StandingIn = [.. standingIn.OfType<string>()],
            HandOverUntil = handOver,
            Routes = routes,
        });

    [Fact]
    public void AHostilePeerStatus_NeverCrashesTheMapping_AndWhatComesOutHasTheFormItMayTake()
    {
        var readCount = 0;
        Statuses.Sample(status =>
        {
            var rejected = new List<string>();
            var read = MeshNodeStatusMapping.ToPeerStatus("b", status, rejected);
            if (read is null)
            {
                return;
            }

            Interlocked.Increment(ref readCount);

            Assert.True(PeerInput.IsWireGuardKey(read.WireGuardKey), read.WireGuardKey);
            Assert.True(PeerInput.IsUnderlay(read.Underlay), read.Underlay.ToString());
            Assert.True(read.OpenVpnFingerprint is null || System.Text.RegularExpressions.Regex.IsMatch(read.OpenVpnFingerprint, "^([0-9A-F]{2}:){31}[0-9A-F]{2}$"), read.OpenVpnFingerprint);
            Assert.True(read.Arrows.Count + read.Accepted.Count <= PeerInput.MaxArrows);
            Assert.All(read.Arrows, a =>
            {
                Assert.True(PeerInput.IsArrowId(a.Id) && PeerInput.IsName(a.Peer) && PeerInput.IsName(a.SubMesh) && a.Port is > 0 and <= 65535, $"{a}");
                Assert.True(a.Reason is null || PeerInput.IsArrowId(a.Reason), a.Reason);
            });
            Assert.All(read.Accepted, a => Assert.True(PeerInput.IsName(a.Peer) && PeerInput.IsName(a.SubMesh) && a.Routes >= 0, $"{a}"));
            Assert.All(read.StandingIn, h => Assert.True(PeerInput.IsName(h), h));
            Assert.True(read.Routes is null or >= 0);

            // Every value dropped is reported: what went in and did not come out has a reason.
            var dropped = (status.Arrows ?? []).Count(a => !PeerInput.IsName(a.Peer) || !PeerInput.IsName(a.SubMesh))
                + (status.OpenVpnFingerprint is not null && read.OpenVpnFingerprint is null ? 1 : 0);
            Assert.True(rejected.Count >= Math.Min(dropped, 1), $"{dropped} value(s) dropped, {rejected.Count} reported");
        }, iter: Cases);

        // The pass is worth its name only if a fair share of the statuses get through to be checked.
        Assert.True(readCount > Cases / 20, $"only {readCount} of {Cases} generated statuses were read");
    }

    [Fact]
    public void EachHostileString_InEachFieldOfAnHonestStatus_IsDroppedWithAReason_OrIsAValidValue()
    {
        foreach (var s in HostileStrings.All)
        {
            var cases = new (string Field, MeshNodeStatus Status, Func<PeerStatus?, bool> Kept)[]
            {
                ("publicKey", With(Honest(), x => x.PublicKey = s), r => r?.WireGuardKey == s),
                ("openVpnFingerprint", With(Honest(), x => x.OpenVpnFingerprint = s), r => r?.OpenVpnFingerprint is not null),
                ("endpoints", With(Honest(), x => x.Endpoints = [s]), r => r is not null),
                ("arrows[].id", With(Honest(), x => x.Arrows![0].Id = s), r => r?.Arrows.Any(a => a.Id == s) == true),
                ("arrows[].peer", With(Honest(), x => x.Arrows![0].Peer = s), r => r?.Arrows.Any(a => a.Peer == s) == true),
                ("arrows[].subMesh", With(Honest(), x => x.Arrows![1].SubMesh = s), r => r?.Accepted.Any(a => a.SubMesh == s) == true),
                ("standingIn", With(Honest(), x => x.StandingIn = [s]), r => r?.StandingIn.Contains(s) == true),
            };
            foreach (var (field, status, kept) in cases)
            {
                var rejected = new List<string>();
                var read = MeshNodeStatusMapping.ToPeerStatus("b", status, rejected);
                var valid = field switch
                {
                    "publicKey" => PeerInput.IsWireGuardKey(s),
                    "openVpnFingerprint" => PeerInput.Fingerprint(s) is not null,
                    "endpoints" => (IPAddress.TryParse(s, out var a) || (IPEndPoint.TryParse(s, out var e) && (a = e.Address) is not null)) && PeerInput.IsUnderlay(a!),
                    "arrows[].id" => PeerInput.IsArrowId(s),
                    _ => PeerInput.IsName(s),
                };
                Assert.True(kept(read) == valid, $"{field} = {PeerInput.Quote(s)}: {(valid ? "a valid value was dropped" : "a hostile value came through")}");
                if (!valid && s.Length > 0)
                {
                    Assert.True(rejected.Count > 0, $"{field} = {PeerInput.Quote(s)} was dropped without a reason");
                    Assert.All(rejected, r => Assert.DoesNotContain('\n', r));
                }
            }
        }
    }

    [Fact]
    public void AStatusOfAnHonestAgent_ComesThroughWhole_WithNothingRejected()
    {
        var rejected = new List<string>();
        var read = MeshNodeStatusMapping.ToPeerStatus("b", Honest(), rejected)!;

        Assert.Empty(rejected);
        Assert.Equal((Key, IPAddress.Parse("fd5e:ff::a"), Fingerprint), (read.WireGuardKey, read.Underlay, read.OpenVpnFingerprint));
        Assert.Equal(("0a1b2c3d4e5f", "c", 51820, "random"), (read.Arrows.Single().Id, read.Arrows.Single().Peer, read.Arrows.Single().Port, read.Arrows.Single().Reason));
        Assert.Equal(("d", 3), (read.Accepted.Single().Peer, read.Accepted.Single().Routes));
        Assert.Equal(["e"], read.StandingIn);
    }

    [Fact]
    public void BabeldControlLines_RandomOrHostile_NeverCrashTheParser()
    {
        var words = Gen.OneOf("add", "change", "flush", "route", "xroute", "neighbour", "interface", "prefix", "from", "installed", "yes", "no", "id", "metric", "refmetric", "via", "if", "up", "ipv6", "reach", "cost", "rtt", "fe80::1", "fd5e::/64", "::/0", "ffff", "-1", "99999999999");
        var lines = Gen.OneOf(Hostile, Gen.OneOf(words, Hostile).Array[0, 16].Select(w => string.Join(' ', w)));
        lines.Sample(line => Assert.NotNull(BabelLineParser.Parse(line)), iter: Cases);
    }

    private static MeshNodeStatus Honest() => new()
    {
        PublicKey = Key,
        OpenVpnFingerprint = Fingerprint,
        Endpoints = ["fd5e:ff::a"],
        Arrows =
        [
            new ArrowStatusResource { Id = "0a1b2c3d4e5f", Peer = "c", SubMesh = "root", Initiated = true, Port = 51820, State = "active", Technology = "wireguard", Reason = "random" },
            new ArrowStatusResource { Peer = "d", SubMesh = "root", Initiated = false, Routes = 3 },
        ],
        StandingIn = ["e"],
        Routes = 4,
    };

    private static MeshNodeStatus With(MeshNodeStatus status, Action<MeshNodeStatus> edit)
    {
        edit(status);
        return status;
    }
}
