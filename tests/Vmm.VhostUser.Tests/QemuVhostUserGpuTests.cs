using System.Buffers.Binary;
using System.Diagnostics;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;
using Vmm.Plugins.VirtioGpu.Testing.VhostUser;
using static Vmm.Plugins.VirtioGpu.Testing.GpuCommandBytes;

namespace Vmm.VhostUser.Tests;

/// <summary>
/// The test front-end and its display peer against QEMU's own vhost-user-gpu back-end: display info asked of the
/// peer, the scanout announced, and transferred pixels arriving in the peer's frame buffer.
/// </summary>
public sealed class QemuVhostUserGpuTests
{
    private const string Binary = "/usr/lib/qemu/vhost-user-gpu";
    private const int Width = 64, Height = 48, Bytes = Width * Height * 4;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Frames_from_qemus_backend_reach_the_display_peer()
    {
        if (!File.Exists(Binary))
        {
            Assert.Skip($"{Binary} is not installed (tools/install-deps.sh --with-vhost-user-gpu installs it).");
        }

        string work = Directory.CreateTempSubdirectory("vmm-qemu-gpu-").FullName;
        string socket = Path.Combine(work, "gpu.sock");
        using Process backend = Process.Start(new ProcessStartInfo(Binary, [$"--socket-path={socket}"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        try
        {
            for (int i = 0; i < 200 && !File.Exists(socket); i++)
            {
                Thread.Sleep(25);
            }

            using VhostUserFrontend frontend = VhostUserFrontend.Connect(socket);
            frontend.Negotiate(VirtioFeatures.Version1 | VirtioFeatures.RingEventIndex);
            using VhostUserGpuDisplayPeer peer = VhostUserGpuDisplayPeer.Attach(frontend, Width, Height);
            Assert.True(peer.WaitForProtocolFeatures(s_timeout), "the back-end never set the display protocol features");
            Assert.Equal(VhostUserGpuDisplayPeer.EdidProtocolFeature, peer.AcceptedProtocolFeatures);
            VhostUserFrontendQueue control = frontend.StartQueue(0, 16);
            _ = frontend.StartQueue(1, 16);

            byte[] info = Run(frontend, control, Command(0x0100, 24), 408);
            Assert.Equal(0x1101u, BinaryPrimitives.ReadUInt32LittleEndian(info));
            Assert.Equal((uint)Width, BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(32)));
            Assert.Equal((uint)Height, BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(36)));
            Assert.Equal(1, peer.DisplayInfoRequests);

            ulong backing = frontend.Allocator.Allocate(Bytes, 4096);
            Span<byte> guestPixels = frontend.Memory.GetSpan(backing, Bytes);
            new Random(5).NextBytes(guestPixels);
            RunOk(frontend, control, Command(0x0101, 40, (24, 1), (28, 2), (32, Width), (36, Height)));
            byte[] attach = Command(0x0106, 48, (24, 1), (28, 1));
            BinaryPrimitives.WriteUInt64LittleEndian(attach.AsSpan(32), backing);
            BinaryPrimitives.WriteUInt32LittleEndian(attach.AsSpan(40), Bytes);
            RunOk(frontend, control, attach);
            RunOk(frontend, control, Command(0x0103, 48, (32, Width), (36, Height), (40, 0), (44, 1)));

            RunOk(frontend, control, Command(0x0105, 56, (32, Width), (36, Height), (48, 1)));
            RunOk(frontend, control, Command(0x0104, 48, (32, Width), (36, Height), (40, 1)));
            Assert.True(peer.WaitForUpdates(1, s_timeout), "no UPDATE after the full-frame flush");
            Assert.Equal((Width, Height), peer.ScanoutSize);
            Assert.Equal(guestPixels.ToArray(), peer.CopyFrame().Pixels);

            // A 10x5 rectangle at (7, 3) with new pixels: only those pixels change on the display.
            new Random(6).NextBytes(guestPixels);
            byte[] expected = peer.CopyFrame().Pixels;
            for (int y = 3; y < 8; y++)
            {
                guestPixels.Slice(((y * Width) + 7) * 4, 40).CopyTo(expected.AsSpan(((y * Width) + 7) * 4));
            }

            byte[] transfer = Command(0x0105, 56, (24, 7), (28, 3), (32, 10), (36, 5), (48, 1));
            BinaryPrimitives.WriteUInt64LittleEndian(transfer.AsSpan(40), (ulong)(((3 * Width) + 7) * 4));
            RunOk(frontend, control, transfer);
            RunOk(frontend, control, Command(0x0104, 48, (24, 7), (28, 3), (32, 10), (36, 5), (40, 1)));
            Assert.True(peer.WaitForUpdates(2, s_timeout), "no UPDATE after the partial flush");
            Assert.Equal(expected, peer.CopyFrame().Pixels);
            Assert.Equal(Bytes + (10 * 5 * 4), peer.UpdatedBytes);
            Assert.Null(peer.Failure);
        }
        finally
        {
            if (!backend.HasExited)
            {
                backend.Kill();
            }

            backend.WaitForExit();
            Directory.Delete(work, recursive: true);
        }
    }

    private static void RunOk(VhostUserFrontend frontend, VhostUserFrontendQueue control, byte[] command)
    {
        byte[] response = Run(frontend, control, command, 24);
        Assert.Equal(0x1100u, BinaryPrimitives.ReadUInt32LittleEndian(response));
    }

    private static byte[] Run(VhostUserFrontend frontend, VhostUserFrontendQueue control, byte[] command, int responseLength)
    {
        ulong request = frontend.Allocator.Allocate((ulong)command.Length, 8);
        ulong response = frontend.Allocator.Allocate((ulong)responseLength, 8);
        frontend.Memory.Write(request, command);
        control.Post([new GuestBuffer(request, (uint)command.Length)], [new GuestBuffer(response, (uint)responseLength)]);
        Assert.True(control.WaitForUsed(s_timeout, out _, out _), $"command 0x{BinaryPrimitives.ReadUInt32LittleEndian(command):x4} was not answered");
        byte[] bytes = new byte[responseLength];
        frontend.Memory.Read(response, bytes);
        return bytes;
    }
}
