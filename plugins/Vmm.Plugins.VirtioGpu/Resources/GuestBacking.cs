
namespace Vmm.Plugins.VirtioGpu.Resources;

/// <summary>
/// A resource's guest backing: the runs of guest memory ATTACH_BACKING named, each checked against guest memory
/// when attached, read as one byte stream.
/// </summary>
internal sealed class GuestBacking
{
    private readonly GuestBuffer[] _runs;

    // _starts[i] is the stream offset where run i begins, so a read finds its first run by binary search.
    private readonly ulong[] _starts;

    public GuestBacking(GuestBuffer[] runs)
    {
        _runs = runs;
        _starts = new ulong[runs.Length];
        ulong total = 0;
        for (int i = 0; i < runs.Length; i++)
        {
            _starts[i] = total;
            total += runs[i].Length;
        }

        Length = total;
        IsContiguous = true;
        for (int i = 1; i < runs.Length; i++)
        {
            if (runs[i - 1].Address + runs[i - 1].Length != runs[i].Address)
            {
                IsContiguous = false;
                break;
            }
        }
    }

    /// <summary>The total length in bytes.</summary>
    public ulong Length { get; }

    /// <summary>Whether the runs follow each other in guest physical memory (one range, as for a single run).</summary>
    public bool IsContiguous { get; }

    /// <summary>The guest address of stream offset <paramref name="offset"/> when the backing is one contiguous range covering the request.</summary>
    public bool TryGetContiguousAddress(ulong offset, ulong length, out ulong address)
    {
        address = 0;
        if (!IsContiguous || _runs.Length == 0 || offset > Length || length > Length - offset)
        {
            return false;
        }

        address = _runs[0].Address + offset;
        return true;
    }

    /// <summary>Whether every run holding the first <paramref name="length"/> bytes lies in one region of guest memory.</summary>
    public bool RunsResolve(IGuestMemory memory, ulong length)
    {
        for (int i = 0; i < _runs.Length && _starts[i] < length; i++)
        {
            if (_runs[i].Length > int.MaxValue || (_runs[i].Length != 0 && !memory.TryGetSpan(_runs[i].Address, (int)_runs[i].Length, out _)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The guest bytes from stream offset <paramref name="offset"/> to the end of its run, at most
    /// <paramref name="maxLength"/>; false (with <paramref name="length"/> still the bytes the run holds from there)
    /// when the run no longer lies in one region. The caller checked the offset.
    /// </summary>
    /// <remarks><paramref name="hint"/>: the run the previous call found (0 at first); a frame's rows walk forward, so
    /// the run is mostly that one or the next and the search is skipped.</remarks>
    public bool TryGetRun(IGuestMemory memory, ulong offset, int maxLength, ref int hint, out Span<byte> span, out int length)
    {
        int run = Holds(hint, offset) ? hint : Holds(hint + 1, offset) ? hint + 1 : FindRun(offset);
        hint = run;
        ulong within = offset - _starts[run];
        length = (int)Math.Min(_runs[run].Length - within, (ulong)maxLength);
        return memory.TryGetSpan(_runs[run].Address + within, length, out span);
    }

    /// <summary>Copies <paramref name="destination"/>.Length bytes from <paramref name="offset"/>; the caller checked the range.</summary>
    public void Read(IGuestMemory memory, ulong offset, Span<byte> destination)
    {
        int run = FindRun(offset);
        ulong within = offset - _starts[run];
        while (!destination.IsEmpty)
        {
            GuestBuffer buffer = _runs[run];
            int n = (int)Math.Min(buffer.Length - within, (ulong)destination.Length);
            memory.Read(buffer.Address + within, destination[..n]);
            destination = destination[n..];
            within = 0;
            run++;
        }
    }

    /// <summary>Copies <paramref name="source"/> in at <paramref name="offset"/>; the caller checked the range.</summary>
    public void Write(IGuestMemory memory, ulong offset, ReadOnlySpan<byte> source)
    {
        int run = FindRun(offset);
        ulong within = offset - _starts[run];
        while (!source.IsEmpty)
        {
            GuestBuffer buffer = _runs[run];
            int n = (int)Math.Min(buffer.Length - within, (ulong)source.Length);
            memory.Write(buffer.Address + within, source[..n]);
            source = source[n..];
            within = 0;
            run++;
        }
    }

    private bool Holds(int run, ulong offset)
        => (uint)run < (uint)_runs.Length && offset >= _starts[run] && offset - _starts[run] < _runs[run].Length;

    private int FindRun(ulong offset)
    {
        int index = Array.BinarySearch(_starts, offset);
        if (index < 0)
        {
            index = ~index - 1;
        }

        // Zero-length runs share a start with the next one: step to the run that holds the byte.
        while (index < _runs.Length - 1 && offset - _starts[index] >= _runs[index].Length)
        {
            index++;
        }

        return index;
    }
}
