using Vmm.Contracts.Display;

namespace Vmm.Plugins.VirtioGpu.Scanouts;

/// <summary>
/// A segmented frame's surface over the scattered guest backing of a 2D resource or a guest blob: surface offset
/// <c>o</c> is byte <c>start + o</c> of the backing's stream, each segment the rest of the guest run that holds it
/// (resolved, bounds-checked, at each call). One per publisher, pointed at a resource for the duration of one frame.
/// </summary>
internal sealed class BackingSegments : IDisplayFrameSegments
{
    // What a run guest memory no longer maps reads as when there is no host copy to show instead.
    private static readonly byte[] s_zeros = new byte[4096];

    private GuestBacking? _backing;
    private IGuestMemory? _memory;
    private byte[]? _fallback;
    private ulong _start;
    private int _length;
    private int _hint;

    /// <summary>
    /// Points at <paramref name="length"/> bytes of <paramref name="backing"/> from <paramref name="start"/>;
    /// <paramref name="fallback"/> (a host copy of the whole backing, in the same layout) stands in for a run guest
    /// memory no longer maps, zeros where there is none (a guest blob).
    /// </summary>
    public void Set(GuestBacking backing, IGuestMemory memory, ulong start, int length, byte[]? fallback)
    {
        (_backing, _memory, _start, _length, _fallback, _hint) = (backing, memory, start, length, fallback, 0);
    }

    /// <summary>Lets go of the resource once the frame was published.</summary>
    public void Clear()
    {
        (_backing, _memory, _fallback) = (null, null, null);
    }

    public ReadOnlySpan<byte> GetSegment(int offset)
    {
        if (_backing is null || _memory is null || (uint)offset >= (uint)_length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} is outside the {_length}-byte surface or the frame is over.");
        }

        ulong at = _start + (ulong)offset;
        if (_backing.TryGetRun(_memory, at, _length - offset, ref _hint, out Span<byte> run, out int length))
        {
            return run;
        }

        // Checked at ATTACH_BACKING (SET_SCANOUT_BLOB), so only a guest memory changed since: show the host copy
        // there, as a contiguous mirror does, or zeros, rather than fail the sink.
        return _fallback is null ? s_zeros.AsSpan(0, Math.Min(length, s_zeros.Length)) : _fallback.AsSpan((int)at, length);
    }
}
