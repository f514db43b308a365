using System.Collections.Concurrent;

namespace Vmm.Plugins.VirtioGpu.Contexts;

/// <summary>
/// Per-ring fences (VIRTIO_GPU_FLAG_INFO_RING_IDX): a fenced command on a context ring is parked until its context
/// signals the fence, then answered OK_NODATA. Contexts signal from any thread; <see cref="Park"/>,
/// <see cref="CompleteSignalled"/> and <see cref="Clear"/> run under the control queue's lock, on the worker or on
/// the thread that signalled.
/// </summary>
internal sealed class RingFences
{
    private readonly ConcurrentQueue<(uint Context, uint Ring, ulong FenceId)> _signalled = new();
    private readonly Dictionary<(uint Context, uint Ring), ulong> _completed = [];
    private readonly List<(DescriptorChain Chain, GpuControlHeader Header)> _parked = [];
    private bool _parkedSinceCheck;

    /// <summary>Whether <paramref name="header"/> is fenced on a ring and answered OK_NODATA, so its response waits for the fence.</summary>
    public static bool WaitsOnRing(GpuControlHeader header, uint response)
        => header.IsFenced && header.IsOnRing && response == GpuResponseType.OkNoData && header.RingIndex < GpuLayout.MaxRings;

    public void Park(DescriptorChain chain, GpuControlHeader header)
    {
        _parked.Add((chain, header));
        _parkedSinceCheck = true; // its fence may have signalled already
    }

    /// <summary>Records a signal; thread-safe.</summary>
    public void Signal(uint contextId, uint ringIndex, ulong fenceId) => _signalled.Enqueue((contextId, ringIndex, fenceId));

    /// <summary>Answers and pushes the parked requests whose fences signalled. True when any was pushed.</summary>
    public bool CompleteSignalled(IVirtqueue queue, Span<byte> responseBuffer)
    {
        bool any = _parkedSinceCheck;
        _parkedSinceCheck = false;
        while (_signalled.TryDequeue(out (uint Context, uint Ring, ulong FenceId) signal))
        {
            (uint, uint) key = (signal.Context, signal.Ring);
            _completed[key] = Math.Max(_completed.GetValueOrDefault(key), signal.FenceId);
            any = true;
        }

        if (!any || _parked.Count == 0)
        {
            return false;
        }

        bool pushed = false;
        Span<byte> response = responseBuffer[..GpuControlHeader.Size];
        for (int i = 0; i < _parked.Count; i++)
        {
            (DescriptorChain chain, GpuControlHeader header) = _parked[i];
            if (_completed.GetValueOrDefault((header.ContextId, header.RingIndex)) < header.FenceId)
            {
                continue;
            }

            header.WriteResponse(GpuResponseType.OkNoData, response);
            uint written = (uint)chain.Write(0, response);
            queue.Push(chain, written);
            _parked.RemoveAt(i--);
            pushed = true;
        }

        return pushed;
    }

    public void Clear()
    {
        _completed.Clear();
        _parked.Clear();
        _signalled.Clear();
        _parkedSinceCheck = false;
    }
}
