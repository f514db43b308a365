using Vmm.Contracts.Memory;

namespace Vmm.Contracts.Virtio;

/// <summary>
/// One request popped from a virtqueue: its device-readable buffers, then its device-writable buffers, each
/// range already checked against guest memory. The queue reuses chain objects: a chain is valid from
/// <see cref="IVirtqueue.TryPop"/> until it is given back with <see cref="IVirtqueue.Push"/>.
/// </summary>
public sealed class DescriptorChain
{
    private GuestBuffer[] _buffers;
    private int _readableCount;
    private int _count;

    /// <summary>Creates an empty chain over <paramref name="memory"/>.</summary>
    public DescriptorChain(IGuestMemory memory, int initialCapacity = 4)
    {
        ArgumentNullException.ThrowIfNull(memory);
        Memory = memory;
        _buffers = new GuestBuffer[Math.Max(1, initialCapacity)];
    }

    /// <summary>The guest memory the buffers point into.</summary>
    public IGuestMemory Memory { get; }

    /// <summary>The index of the chain's head descriptor; what the used ring reports back.</summary>
    public ushort HeadIndex { get; private set; }

    /// <summary>The device-readable buffers (the request), in chain order.</summary>
    public ReadOnlySpan<GuestBuffer> Readable => _buffers.AsSpan(0, _readableCount);

    /// <summary>The device-writable buffers (the response), in chain order.</summary>
    public ReadOnlySpan<GuestBuffer> Writable => _buffers.AsSpan(_readableCount, _count - _readableCount);

    /// <summary>The total length of the readable buffers.</summary>
    public long ReadableLength { get; private set; }

    /// <summary>The total length of the writable buffers.</summary>
    public long WritableLength { get; private set; }

    /// <summary>Empties the chain and gives it a new head. Queue implementations only: not part of the plugin ABI.</summary>
    internal void Reset(ushort headIndex)
    {
        HeadIndex = headIndex;
        _readableCount = 0;
        _count = 0;
        ReadableLength = 0;
        WritableLength = 0;
    }

    /// <summary>Appends a device-readable buffer; fails once a writable buffer was added (virtio 1.2 §2.7.4.2). Queue implementations only.</summary>
    internal void AddReadable(GuestBuffer buffer)
    {
        if (_count != _readableCount)
        {
            throw new VirtioProtocolException("A device-readable descriptor follows a device-writable one.");
        }

        Append(buffer);
        _readableCount++;
        ReadableLength += buffer.Length;
    }

    /// <summary>Appends a device-writable buffer. Queue implementations only.</summary>
    internal void AddWritable(GuestBuffer buffer)
    {
        Append(buffer);
        WritableLength += buffer.Length;
    }

    /// <summary>
    /// Copies readable bytes starting <paramref name="offset"/> bytes into the request into
    /// <paramref name="destination"/>. Returns how many bytes were copied (fewer when the request is shorter).
    /// </summary>
    public int Read(long offset, Span<byte> destination) => Copy(Readable, offset, destination, default, toGuest: false);

    /// <summary>
    /// Copies <paramref name="source"/> into the writable buffers starting <paramref name="offset"/> bytes into the
    /// response. Returns how many bytes were copied (fewer when the response buffers are shorter).
    /// </summary>
    public int Write(long offset, ReadOnlySpan<byte> source) => Copy(Writable, offset, default, source, toGuest: true);

    private void Append(GuestBuffer buffer)
    {
        if (_count == _buffers.Length)
        {
            Array.Resize(ref _buffers, _buffers.Length * 2);
        }

        _buffers[_count++] = buffer;
    }

    private int Copy(ReadOnlySpan<GuestBuffer> buffers, long offset, Span<byte> destination, ReadOnlySpan<byte> source, bool toGuest)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        int wanted = toGuest ? source.Length : destination.Length;
        int done = 0;
        foreach (GuestBuffer buffer in buffers)
        {
            if (done == wanted)
            {
                break;
            }

            if (offset >= buffer.Length)
            {
                offset -= buffer.Length;
                continue;
            }

            int n = (int)Math.Min(buffer.Length - offset, wanted - done);

            // Read/Write rather than one span: a buffer may cross two adjacent memory regions.
            ulong address = buffer.Address + (ulong)offset;
            if (toGuest)
            {
                Memory.Write(address, source.Slice(done, n));
            }
            else
            {
                Memory.Read(address, destination.Slice(done, n));
            }

            done += n;
            offset = 0;
        }

        return done;
    }
}
