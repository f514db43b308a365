using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Vmm.Contracts.Gpu;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioGpu.Protocol;
using Vmm.Plugins.VirtioGpu.Resources;

namespace Vmm.Plugins.VirtioGpu;

/// <summary>
/// Context types (VIRTIO_GPU_F_VIRGL + CONTEXT_INIT, offered only when a plugin registered an
/// <see cref="IGpuContextType"/>): capsets, contexts, SUBMIT_3D and per-ring fences whose responses wait for the
/// context to signal them.
/// </summary>
public sealed partial class VirtioGpuDevice
{
    private const int MaxSubmitSize = 1 << 20;

    private readonly Dictionary<uint, IGpuContext?> _contexts = [];
    private readonly ConcurrentQueue<(uint Context, uint Ring, ulong FenceId)> _signalledFences = new();
    private readonly Dictionary<(uint Context, uint Ring), ulong> _completedFences = [];
    private readonly List<ParkedRequest> _parked = [];

    // Set while a handler parks the current request: its response goes out when its fence signals.
    private bool _parkCurrent;

    private ulong ContextFeatures => _contextTypes.Length == 0 ? 0 : GpuLayout.FeatureVirgl | GpuLayout.FeatureContextInit;

    private uint GetCapsetInfo(GpuControlHeader header, ReadOnlySpan<byte> request, ref int responseLength)
    {
        uint index = U32(request, 24);
        if (index >= _contextTypes.Length)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"no capset index {index}");
        }

        IGpuContextType type = _contextTypes[index];
        Span<byte> body = _response.AsSpan(GpuLayout.HeaderSize, 16);
        body.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(body, type.CapsetId);
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], type.CapsetMaxVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(body[8..], (uint)type.CapsetMaxSize);
        responseLength = GpuLayout.HeaderSize + 16;
        return GpuResponseType.OkCapsetInfo;
    }

    private uint GetCapset(GpuControlHeader header, ReadOnlySpan<byte> request, ref int responseLength)
    {
        uint id = U32(request, 24);
        uint version = U32(request, 28);
        IGpuContextType? type = Array.Find(_contextTypes, t => t.CapsetId == id);
        if (type is null || version > type.CapsetMaxVersion)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"no capset {id} version {version}");
        }

        Span<byte> body = _response.AsSpan(GpuLayout.HeaderSize, type.CapsetMaxSize);
        body.Clear();
        type.WriteCapset(version, body);
        responseLength = GpuLayout.HeaderSize + type.CapsetMaxSize;
        return GpuResponseType.OkCapset;
    }

    private uint CreateContext(GpuControlHeader header, ReadOnlySpan<byte> request)
    {
        uint id = header.ContextId;
        uint nameLength = Math.Min(U32(request, 24), 64);
        uint capset = U32(request, 28) & 0xFF;
        if (_contexts.ContainsKey(id))
        {
            return Reject(header, GpuResponseType.ErrInvalidContextId, $"context {id} exists");
        }

        if (capset == 0)
        {
            // Linux 6.1 creates a default context for every DRM file that makes a GEM handle; it stays inert.
            _contexts.Add(id, null);
            return GpuResponseType.OkNoData;
        }

        IGpuContextType? type = Array.Find(_contextTypes, t => t.CapsetId == capset);
        if (type is null)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"no context type for capset {capset}");
        }

        string name = Encoding.UTF8.GetString(request.Slice(32, (int)nameLength)).TrimEnd('\0');
        try
        {
            _contexts.Add(id, type.CreateContext(new GpuContextCreateInfo(id, name), new ContextHost(this, id)));
        }
        catch (VirtioProtocolException exception)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, exception.Message);
        }

        return GpuResponseType.OkNoData;
    }

    private uint DestroyContext(GpuControlHeader header)
    {
        if (!_contexts.Remove(header.ContextId, out IGpuContext? context))
        {
            return Reject(header, GpuResponseType.ErrInvalidContextId, $"no context {header.ContextId}");
        }

        context?.Dispose();
        return GpuResponseType.OkNoData;
    }

    private uint AttachToContext(GpuControlHeader header, ReadOnlySpan<byte> request, IGuestMemory memory, bool attach)
    {
        uint resourceId = U32(request, 24);
        if (!_contexts.TryGetValue(header.ContextId, out IGpuContext? context))
        {
            return Reject(header, GpuResponseType.ErrInvalidContextId, $"no context {header.ContextId}");
        }

        if (!_resources.TryGet(resourceId, out GpuResource? resource))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {resourceId}");
        }

        if (attach)
        {
            context?.AttachResource(resource is GpuBlobResource blob ? new GpuBlobView(blob, memory) : new GpuResourceView((GpuResource2D)resource, memory));
        }
        else
        {
            context?.DetachResource(resourceId);
        }

        return GpuResponseType.OkNoData;
    }

    private uint Submit3D(GpuControlHeader header, ReadOnlySpan<byte> request, DescriptorChain chain)
    {
        uint size = U32(request, 24);
        if (!_contexts.TryGetValue(header.ContextId, out IGpuContext? context))
        {
            return Reject(header, GpuResponseType.ErrInvalidContextId, $"no context {header.ContextId}");
        }

        if (size > MaxSubmitSize || chain.ReadableLength < 32 + (long)size)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"a submit of {size} bytes (request {chain.ReadableLength} bytes, at most {MaxSubmitSize})");
        }

        if (context is not null && size > 0)
        {
            // Copied out once (no double fetch); command streams are rare next to 2D traffic.
            byte[] commands = new byte[size];
            chain.Read(32, commands);
            try
            {
                context.Submit(commands);
            }
            catch (VirtioProtocolException exception)
            {
                return Reject(header, GpuResponseType.ErrInvalidParameter, exception.Message);
            }
        }

        return GpuResponseType.OkNoData;
    }

    /// <summary>
    /// A fenced command on a context ring waits for the context to signal the fence; global-timeline fences
    /// signal at once (every command here completes synchronously).
    /// </summary>
    private void ParkIfRingFenced(GpuControlHeader header, uint response)
    {
        if ((header.Flags & GpuLayout.FlagFence) == 0 || (header.Flags & GpuLayout.FlagInfoRingIndex) == 0
            || response != GpuResponseType.OkNoData || header.RingIndex >= GpuLayout.MaxRings
            || !_contexts.TryGetValue(header.ContextId, out IGpuContext? context) || context is null)
        {
            return;
        }

        context.CreateFence(header.RingIndex, header.FenceId);
        _parkCurrent = true;
    }

    /// <summary>Pushes the parked requests whose fences signalled; on the worker.</summary>
    private bool CompleteSignalledFences(IVirtqueue queue)
    {
        bool any = false;
        while (_signalledFences.TryDequeue(out (uint Context, uint Ring, ulong FenceId) signal))
        {
            (uint, uint) key = (signal.Context, signal.Ring);
            _completedFences[key] = Math.Max(_completedFences.GetValueOrDefault(key), signal.FenceId);
            any = true;
        }

        if (!any || _parked.Count == 0)
        {
            return false;
        }

        bool pushed = false;
        for (int i = 0; i < _parked.Count; i++)
        {
            ParkedRequest parked = _parked[i];
            GpuControlHeader header = parked.Header;
            if (_completedFences.GetValueOrDefault((header.ContextId, header.RingIndex)) < header.FenceId)
            {
                continue;
            }

            header.WriteResponse(GpuResponseType.OkNoData, _response);
            uint written = (uint)parked.Chain.Write(0, _response.AsSpan(0, GpuLayout.HeaderSize));
            queue.Push(parked.Chain, written);
            _parked.RemoveAt(i--);
            pushed = true;
        }

        return pushed;
    }

    private void DetachFromContexts(uint resourceId)
    {
        foreach (IGpuContext? context in _contexts.Values)
        {
            try
            {
                context?.DetachResource(resourceId);
            }
            catch (VirtioProtocolException)
            {
                // A context that never had the resource may say so; nothing to undo.
            }
        }
    }

    private void ResetContexts()
    {
        foreach (IGpuContext? context in _contexts.Values)
        {
            context?.Dispose();
        }

        _contexts.Clear();
        _completedFences.Clear();
        _parked.Clear();
        _signalledFences.Clear();
    }

    private void OnFenceSignalled(uint contextId, uint ringIndex, ulong fenceId)
    {
        _signalledFences.Enqueue((contextId, ringIndex, fenceId));
        _context?.ScheduleQueue(ControlQueue);
    }

    private readonly record struct ParkedRequest(DescriptorChain Chain, GpuControlHeader Header);

    /// <summary>What one context gets: guest memory and fence completion tagged with its id.</summary>
    private sealed class ContextHost(VirtioGpuDevice device, uint contextId) : IGpuContextHost
    {
        public IGuestMemory Memory => device._context?.Memory ?? throw new InvalidOperationException("The device is not active.");

        public void CompleteFence(uint ringIndex, ulong fenceId) => device.OnFenceSignalled(contextId, ringIndex, fenceId);
    }
}
