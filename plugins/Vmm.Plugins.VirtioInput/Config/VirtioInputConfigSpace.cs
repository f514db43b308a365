namespace Vmm.Plugins.VirtioInput.Config;

/// <summary>
/// <c>struct virtio_input_config</c> (136 bytes): the driver writes <c>select</c> and <c>subsel</c>, then reads
/// <c>size</c> and the union. Linux writes the two selectors with separate one-byte accesses, so every read
/// recomputes the answer from the current pair. Safe against concurrent access from the transport.
/// </summary>
internal sealed class VirtioInputConfigSpace
{
    /// <summary>The size of the config structure.</summary>
    public const int Size = PayloadOffset + InputDeviceProfile.PayloadSize;

    public const int SelectOffset = 0;
    public const int SubselOffset = 1;
    public const int SizeOffset = 2;
    public const int PayloadOffset = 8;

    private readonly InputDeviceProfile _profile;
    private readonly Lock _sync = new();
    private byte _select;
    private byte _subsel;

    public VirtioInputConfigSpace(InputDeviceProfile profile)
    {
        _profile = profile;
    }

    /// <summary>Copies config bytes [<paramref name="offset"/>, +length) out; bytes past the structure read as 0.</summary>
    public void Read(int offset, Span<byte> data)
    {
        data.Clear();
        if (offset < 0 || offset >= Size)
        {
            return;
        }

        Span<byte> config = stackalloc byte[Size];
        config.Clear();
        lock (_sync)
        {
            config[SelectOffset] = _select;
            config[SubselOffset] = _subsel;
            config[SizeOffset] = _profile.Fill(_select, _subsel, config[PayloadOffset..]);
        }

        int length = Math.Min(data.Length, Size - offset);
        config.Slice(offset, length).CopyTo(data);
    }

    /// <summary>Writes config bytes; only <c>select</c> and <c>subsel</c> are writable, everything else is ignored.</summary>
    public void Write(int offset, ReadOnlySpan<byte> data)
    {
        lock (_sync)
        {
            for (int i = 0; i < data.Length; i++)
            {
                long at = (long)offset + i;
                if (at == SelectOffset)
                {
                    _select = data[i];
                }
                else if (at == SubselOffset)
                {
                    _subsel = data[i];
                }
            }
        }
    }

    /// <summary>Back to select = subsel = 0 (device reset).</summary>
    public void Reset()
    {
        lock (_sync)
        {
            _select = 0;
            _subsel = 0;
        }
    }
}
