using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Gpu;
using Vmm.Plugins.VirtioGpu.Blobs;
using Vmm.Plugins.VirtioGpu.Protocol.Responses;

namespace Vmm.Plugins.VirtioGpu.Contexts;

/// <summary>
/// Hosts the context types plugins registered (<see cref="IGpuContextType"/>; VIRTIO_GPU_F_VIRGL + CONTEXT_INIT are
/// offered only when there is one): their capsets, the guest's contexts by ctx_id, the resources attached to them,
/// SUBMIT_3D, and the per-ring fences contexts signal through their <see cref="IGpuContextHost"/>.
/// </summary>
/// <remarks>
/// A fence is completed on the thread that signals it (a context's own thread), as libkrun's and crosvm's fence
/// handlers add the parked request to the used ring and interrupt the guest themselves: the guest hears of a
/// channel message without a hop through the device worker. <see cref="QueueLock"/> keeps that thread's pushes and
/// the worker's pops and pushes of the control queue apart; nothing slow runs under it.
/// </remarks>
internal sealed class ContextHost
{
    private const int MaxSubmitSize = 1 << 20;
    private const int MaxCapsets = 16;
    private const int MaxCapsetSize = 1 << 16;

    private readonly IGpuContextType[] _types;
    private readonly Dictionary<uint, IGpuContext?> _contexts = [];
    private readonly RingFences _fences = new();
    private readonly ResourceTable _resources;
    private readonly CommandLog _log;
    private readonly Func<IGuestMemory?> _memory;
    private readonly Func<IVirtqueue?> _controlQueue;
    private readonly Action _scheduleControlQueue;
    private readonly byte[] _fenceResponse = new byte[GpuControlHeader.Size];
    private Exception? _fenceFailure;
    private bool _queueFailed;

    /// <param name="types">The registered context types; only those with a capset id of 1 to 63 count, at most 16.</param>
    /// <param name="resources">The guest's resources, which contexts may attach.</param>
    /// <param name="log">Where refusals go.</param>
    /// <param name="memory">Guest memory while the device is active.</param>
    /// <param name="controlQueue">The control queue while the device is active.</param>
    /// <param name="scheduleControlQueue">Runs the control queue on the worker (to fail the device from another thread).</param>
    public ContextHost(IEnumerable<IGpuContextType> types, ResourceTable resources, CommandLog log, Func<IGuestMemory?> memory, Func<IVirtqueue?> controlQueue, Action scheduleControlQueue)
    {
        _types = [.. types.Where(t => t.CapsetId is > 0 and < 64).Take(MaxCapsets)];
        _resources = resources;
        _log = log;
        _memory = memory;
        _controlQueue = controlQueue;
        _scheduleControlQueue = scheduleControlQueue;
    }

    /// <summary>Held around every pop, push and notify of the control queue, and around the parked fences.</summary>
    public Lock QueueLock { get; } = new();

    /// <summary>Whether any context type is registered (the context commands exist).</summary>
    public bool IsEnabled => _types.Length != 0;

    public ulong Features => IsEnabled ? GpuLayout.FeatureVirgl | GpuLayout.FeatureContextInit : 0;

    /// <summary>num_capsets in the config space.</summary>
    public int CapsetCount => _types.Length;

    /// <summary>The largest capset body a GET_CAPSET response carries.</summary>
    public int LargestCapset => _types.Select(t => Math.Clamp(t.CapsetMaxSize, 0, MaxCapsetSize)).DefaultIfEmpty(0).Max();

    public uint GetCapsetInfo(GpuControlHeader header, GetCapsetInfo command, ref GpuResponse response)
    {
        uint index = command.CapsetIndex;
        if (index >= _types.Length)
        {
            return _log.Reject(header, GpuResponseType.ErrInvalidParameter, $"no capset index {index}");
        }

        IGpuContextType type = _types[index];
        response.Write(new CapsetInfoResponse(type.CapsetId, type.CapsetMaxVersion, (uint)type.CapsetMaxSize));
        return GpuResponseType.OkCapsetInfo;
    }

    public uint GetCapset(GpuControlHeader header, GetCapset command, ref GpuResponse response)
    {
        (uint id, uint version) = (command.CapsetId, command.CapsetVersion);
        IGpuContextType? type = Array.Find(_types, t => t.CapsetId == id);
        if (type is null || version > type.CapsetMaxVersion)
        {
            return _log.Reject(header, GpuResponseType.ErrInvalidParameter, $"no capset {id} version {version}");
        }

        type.WriteCapset(version, response.Bytes(type.CapsetMaxSize));
        return GpuResponseType.OkCapset;
    }

    public uint Create(GpuControlHeader header, ContextCreate command)
    {
        uint id = header.ContextId;
        uint capset = command.CapsetId;
        if (_contexts.ContainsKey(id))
        {
            return _log.Reject(header, GpuResponseType.ErrInvalidContextId, $"context {id} exists");
        }

        if (capset == 0)
        {
            // Linux 6.1 creates a default context for every DRM file that makes a GEM handle; it stays inert.
            _contexts.Add(id, null);
            return GpuResponseType.OkNoData;
        }

        IGpuContextType? type = Array.Find(_types, t => t.CapsetId == capset);
        if (type is null)
        {
            return _log.Reject(header, GpuResponseType.ErrInvalidParameter, $"no context type for capset {capset}");
        }

        try
        {
            _contexts.Add(id, type.CreateContext(new GpuContextCreateInfo(id, command.Name), new Handle(this, id)));
        }
        catch (VirtioProtocolException exception)
        {
            return _log.Reject(header, GpuResponseType.ErrInvalidParameter, exception.Message);
        }

        return GpuResponseType.OkNoData;
    }

    public uint Destroy(GpuControlHeader header)
    {
        if (!_contexts.Remove(header.ContextId, out IGpuContext? context))
        {
            return _log.Reject(header, GpuResponseType.ErrInvalidContextId, $"no context {header.ContextId}");
        }

        context?.Dispose();
        return GpuResponseType.OkNoData;
    }

    public uint Attach(GpuControlHeader header, ContextAttachResource command, IGuestMemory memory)
    {
        if (!TryFind(header, command.ResourceId, out IGpuContext? context, out GpuResource? resource, out uint response))
        {
            return response;
        }

        context?.AttachResource(resource is GpuBlobResource blob ? new GpuBlobView(blob, memory) : new GpuResourceView((GpuResource2D)resource, memory));
        return GpuResponseType.OkNoData;
    }

    public uint Detach(GpuControlHeader header, ContextDetachResource command)
    {
        if (!TryFind(header, command.ResourceId, out IGpuContext? context, out _, out uint response))
        {
            return response;
        }

        context?.DetachResource(command.ResourceId);
        return GpuResponseType.OkNoData;
    }

    public uint Submit(GpuControlHeader header, Submit3D command, DescriptorChain chain)
    {
        uint size = command.Size;
        if (!_contexts.TryGetValue(header.ContextId, out IGpuContext? context))
        {
            return _log.Reject(header, GpuResponseType.ErrInvalidContextId, $"no context {header.ContextId}");
        }

        int streamOffset = GpuCommandDecoder.CommandSize<Submit3D>();
        if (size > MaxSubmitSize || chain.ReadableLength < streamOffset + (long)size)
        {
            return _log.Reject(header, GpuResponseType.ErrInvalidParameter, $"a submit of {size} bytes (request {chain.ReadableLength} bytes, at most {MaxSubmitSize})");
        }

        if (context is not null && size > 0)
        {
            // Copied out once (no double fetch); command streams are rare next to 2D traffic.
            byte[] commands = new byte[size];
            chain.Read(streamOffset, commands);
            try
            {
                context.Submit(commands);
            }
            catch (VirtioProtocolException exception)
            {
                return _log.Reject(header, GpuResponseType.ErrInvalidParameter, exception.Message);
            }
        }

        return GpuResponseType.OkNoData;
    }

    /// <summary>Context <paramref name="contextId"/> when it exists and has a context type (not a default context).</summary>
    public bool TryGetContext(uint contextId, [NotNullWhen(true)] out IGpuContext? context)
        => _contexts.TryGetValue(contextId, out context) && context is not null;

    /// <summary>
    /// A fenced command on a context ring waits for the context to signal the fence (true: park it); global-timeline
    /// fences signal at once, as every command here completes synchronously.
    /// </summary>
    public bool ShouldPark(GpuControlHeader header, uint response)
    {
        if (!RingFences.WaitsOnRing(header, response) || !TryGetContext(header.ContextId, out IGpuContext? context))
        {
            return false;
        }

        context.CreateFence(header.RingIndex, header.FenceId);
        return true;
    }

    public void Park(DescriptorChain chain, GpuControlHeader header)
    {
        lock (QueueLock)
        {
            _fences.Park(chain, header);
        }
    }

    /// <summary>
    /// On the worker, holding <see cref="QueueLock"/>: pushes the parked requests whose fences signalled (also those
    /// parked after their fence signalled); rethrows what failed a completion on a context's thread, so the device
    /// fails as for any error of its own.
    /// </summary>
    public bool CompleteSignalledFences(IVirtqueue queue)
    {
        if (Interlocked.Exchange(ref _fenceFailure, null) is Exception failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        return _fences.CompleteSignalled(queue, _fenceResponse);
    }

    /// <summary>The worker saw the control queue fail (the device waits for a reset): contexts push nothing more.</summary>
    public void MarkQueueFailed()
    {
        lock (QueueLock)
        {
            _queueFailed = true;
        }
    }

    /// <summary>Every context lets go of a resource before its memory goes (a guest may unref without detaching).</summary>
    public void DetachFromAll(uint resourceId)
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

    public void Reset()
    {
        foreach (IGpuContext? context in _contexts.Values)
        {
            context?.Dispose();
        }

        _contexts.Clear();
        lock (QueueLock)
        {
            _fences.Clear();
            _queueFailed = false;
            _fenceFailure = null;
        }
    }

    /// <summary>A context signalled a fence: its parked requests go to the guest now, from the signalling thread.</summary>
    private void CompleteFencesNow()
    {
        IVirtqueue? queue = _controlQueue();
        if (queue is null)
        {
            return;
        }

        lock (QueueLock)
        {
            if (_queueFailed || !queue.IsReady)
            {
                return;
            }

            try
            {
                if (_fences.CompleteSignalled(queue, _fenceResponse))
                {
                    queue.NotifyGuest();
                }
            }
#pragma warning disable CA1031 // On a context's thread: handed to the worker, which fails the device as for its own errors.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                _queueFailed = true;
                _fenceFailure = exception;
            }
        }

        if (Volatile.Read(ref _fenceFailure) is not null)
        {
            _scheduleControlQueue();
        }
    }

    private bool TryFind(GpuControlHeader header, uint resourceId, out IGpuContext? context, [NotNullWhen(true)] out GpuResource? resource, out uint response)
    {
        resource = null;
        response = GpuResponseType.OkNoData;
        if (!_contexts.TryGetValue(header.ContextId, out context))
        {
            response = _log.Reject(header, GpuResponseType.ErrInvalidContextId, $"no context {header.ContextId}");
            return false;
        }

        if (!_resources.TryGet(resourceId, out resource))
        {
            response = _log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {resourceId}");
            return false;
        }

        return true;
    }

    /// <summary>What one context gets (its <see cref="IGpuContextHost"/>): guest memory, and fence completion tagged with its id.</summary>
    private sealed class Handle(ContextHost host, uint contextId) : IGpuContextHost
    {
        public IGuestMemory Memory => host._memory() ?? throw new InvalidOperationException("The device is not active.");

        public void CompleteFence(uint ringIndex, ulong fenceId)
        {
            host._fences.Signal(contextId, ringIndex, fenceId);
            host.CompleteFencesNow();
        }
    }
}
