using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.Lgmp;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>A consumer handler that keeps a frame buffer like a display source would, and records every event.</summary>
internal sealed class RecordingHandler : IKvmfrConsumerHandler
{
    private byte[] _frame = [];

    public byte[] Frame => _frame;

    public int Width { get; private set; }

    public int Height { get; private set; }

    public List<KvmfrHeader> Sessions { get; } = [];

    public List<LgmpStatus> Losses { get; } = [];

    public List<KvmfrFrameInfo> Modes { get; } = [];

    public List<(KvmfrFrameInfo Info, DamageRect[] Damage)> Frames { get; } = [];

    public List<(KvmfrCursorShape Shape, byte[] Bgra)> Shapes { get; } = [];

    public List<KvmfrCursorState> Moves { get; } = [];

    public void SessionStarted(KvmfrHeader header) => Sessions.Add(header);

    public void SessionLost(LgmpStatus reason) => Losses.Add(reason);

    public void ModeChanged(in KvmfrFrameInfo frame)
    {
        Modes.Add(frame);
        Width = frame.Format.Width;
        Height = frame.Format.Height;
        _frame = new byte[Width * Height * 4];
    }

    public Span<byte> GetFrameBuffer(in KvmfrFrameInfo frame) => _frame;

    public void FrameReceived(in KvmfrFrameInfo frame, ReadOnlySpan<DamageRect> damage) => Frames.Add((frame, damage.ToArray()));

    public void CursorShapeChanged(in KvmfrCursorShape shape, ReadOnlySpan<byte> bgra) => Shapes.Add((shape, bgra.ToArray()));

    public void CursorMoved(in KvmfrCursorState state) => Moves.Add(state);
}
