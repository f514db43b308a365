using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Core.Virtio.Execution;
using Vmm.Core.Virtio.Queues;
using Vmm.Interop;
using Vmm.VhostUser.Protocol;

namespace Vmm.VhostUser.Backend;

/// <summary>
/// One front-end connection. A single thread waits (poll) on the socket and on every live ring's kick eventfd:
/// messages are handled in order on this thread, kicks wake the device worker for their queue. A device whose queue
/// thread waits on its kick itself (<see cref="IVirtioNotifierHandoff"/>) is given that kick eventfd, which is then
/// not polled here: the front-end's kick wakes the thread that serves the ring, one wake-up per request. Any protocol
/// violation ends the session; <see cref="Dispose"/> resets the device and closes every descriptor and mapping.
/// </summary>
internal sealed class VhostUserSession : IDisposable
{
    /// <summary>Ring features every device gets from the transport, plus the bit that announces protocol features.</summary>
    public const ulong TransportFeatures =
        VirtioFeatures.Version1 | VirtioFeatures.RingIndirectDescriptors | VirtioFeatures.RingEventIndex | VhostUserProtocolFeatures.ProtocolFeaturesBit;

    private readonly VhostUserChannel _channel;
    private readonly IVirtioDevice _device;
    private readonly IVirtioNotifierHandoff? _handoff;
    private readonly VirtioDeviceWorker _worker;
    private readonly ILogger _logger;
    private readonly VhostUserVring[] _rings;
    private readonly VhostUserMessage _message = new();
    private readonly SafeHandle[] _pollHandles;
    private readonly int[] _pollRings;
    private readonly byte[] _reply = new byte[VhostUserHeader.MaxPayloadSize];
    private readonly ulong _offeredFeatures;
    private ulong _ackedFeatures;
    private ulong _protocolFeatures;
    private VhostUserMemoryTable? _memory;

    // vhost-user-gpu's display channel (VHOST_USER_GPU_SET_SOCKET). Frames reach sinks through the display router,
    // not through the front-end, so the socket is only held open: closing it would look like a dead back-end.
    private SafeFileHandle? _gpuSocket;
    private SplitVirtqueue[]? _queues;
    private int _pollCount;
    private bool _pollDirty = true;
    private bool _disposed;

    public VhostUserSession(VhostUserChannel channel, IVirtioDevice device, VirtioDeviceWorker worker, ILogger logger)
    {
        _channel = channel;
        _device = device;
        _worker = worker;
        _logger = logger;

        // A synchronous worker runs the device on the caller's thread only (tests): no queue threads to hand kicks to.
        _handoff = worker.IsSynchronous ? null : device as IVirtioNotifierHandoff;
        IReadOnlyList<ushort> sizes = device.QueueMaxSizes;
        if (sizes.Count is 0 or > 63)
        {
            throw new ArgumentException($"Device {device.Id} has {sizes.Count} queues; vhost-user serves 1 to 63.", nameof(device));
        }

        _rings = new VhostUserVring[sizes.Count];
        for (int i = 0; i < _rings.Length; i++)
        {
            _rings[i] = new VhostUserVring(i, sizes[i]);
        }

        _pollHandles = new SafeHandle[_rings.Length + 1];
        _pollRings = new int[_rings.Length + 1];
        _worker.Failed += OnDeviceFailed;
        _offeredFeatures = (device.DeviceFeatures & ~(VirtioFeatures.AccessPlatform | VirtioFeatures.RingPacked)) | TransportFeatures;
    }

    /// <summary>Serves the connection until the front-end disconnects or breaks the protocol.</summary>
    public void Run()
    {
        try
        {
            while (true)
            {
                RebuildPollSetIfNeeded();
                ulong ready = UnixSocketMessaging.WaitAny(_pollHandles.AsSpan(0, _pollCount), -1);
                for (int i = 1; i < _pollCount; i++)
                {
                    if ((ready & (1UL << i)) != 0)
                    {
                        DrainKick(_pollRings[i]);
                    }
                }

                if ((ready & 1) != 0)
                {
                    if (!_channel.Receive(_message))
                    {
                        return;
                    }

                    HandleMessage();
                    _message.Clear();
                }
            }
        }
        catch (Exception exception) when (exception is VhostUserProtocolException or NativeCallException or VirtioProtocolException or GuestMemoryException)
        {
            VhostUserLog.ProtocolError(_logger, exception, _device.Id);
            TryNack();
        }
        finally
        {
            _message.Clear();
        }
    }

    /// <summary>Resets the device and releases every ring descriptor and the memory mappings.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _worker.Failed -= OnDeviceFailed;
        Deactivate(saveBases: false);
        foreach (VhostUserVring ring in _rings)
        {
            SetKick(ring, null);
            ring.Dispose();
        }

        _memory?.Dispose();
        _memory = null;
        _gpuSocket?.Dispose();
        _message.Dispose();
    }

    /// <summary>
    /// vhost-user has no DEVICE_NEEDS_RESET: tell the front-end through every ring's error eventfd (runs on the
    /// worker thread; the handles may be replaced concurrently, which only loses this signal).
    /// </summary>
    private void OnDeviceFailed(Exception exception)
    {
        foreach (VhostUserVring ring in _rings)
        {
            ring.SignalError();
        }
    }

    private void HandleMessage()
    {
        VhostUserHeader header = _message.Header;
        VhostUserLog.Request(_logger, _device.Id, header.Request, header.Flags, header.Size, _message.DescriptorCount);
        if ((header.Flags & VhostUserHeader.ReplyFlag) != 0)
        {
            throw new VhostUserProtocolException($"{header.Request} arrived with the reply flag set.");
        }

        bool replied = false;
        switch (header.Request)
        {
            case VhostUserRequest.GetFeatures:
                RequireNoDescriptors();
                VhostUserPayloads.RequireEmpty(_message);
                ReplyUInt64(_offeredFeatures);
                replied = true;
                break;
            case VhostUserRequest.SetFeatures:
                RequireNoDescriptors();
                SetFeatures(VhostUserPayloads.ReadUInt64(_message));
                break;
            case VhostUserRequest.SetOwner:
                RequireNoDescriptors();
                VhostUserPayloads.RequireEmpty(_message);
                break;
            case VhostUserRequest.ResetOwner:
                RequireNoDescriptors();
                VhostUserPayloads.RequireEmpty(_message);
                Deactivate(saveBases: true);
                break;
            case VhostUserRequest.GetProtocolFeatures:
                RequireNoDescriptors();
                VhostUserPayloads.RequireEmpty(_message);
                ReplyUInt64(VhostUserProtocolFeatures.Supported);
                replied = true;
                break;
            case VhostUserRequest.SetProtocolFeatures:
                RequireNoDescriptors();
                SetProtocolFeatures(VhostUserPayloads.ReadUInt64(_message));
                break;
            case VhostUserRequest.GetQueueNum:
                RequireNoDescriptors();
                VhostUserPayloads.RequireEmpty(_message);
                ReplyUInt64((ulong)_rings.Length);
                replied = true;
                break;
            case VhostUserRequest.SetMemTable:
                SetMemoryTable();
                break;
            case VhostUserRequest.SetVringNum:
                RequireNoDescriptors();
                SetVringNum(VhostUserPayloads.ReadVringState(_message));
                break;
            case VhostUserRequest.SetVringAddr:
                RequireNoDescriptors();
                SetVringAddress(VhostUserPayloads.ReadVringAddress(_message));
                break;
            case VhostUserRequest.SetVringBase:
                RequireNoDescriptors();
                SetVringBase(VhostUserPayloads.ReadVringState(_message));
                break;
            case VhostUserRequest.GetVringBase:
                RequireNoDescriptors();
                GetVringBase(VhostUserPayloads.ReadVringState(_message));
                replied = true;
                break;
            case VhostUserRequest.SetVringKick:
            case VhostUserRequest.SetVringCall:
            case VhostUserRequest.SetVringErr:
                SetVringDescriptor(header.Request, VhostUserPayloads.ReadUInt64(_message));
                break;
            case VhostUserRequest.SetVringEnable:
                RequireNoDescriptors();
                SetVringEnable(VhostUserPayloads.ReadVringState(_message));
                break;
            case VhostUserRequest.GetConfig:
                RequireNoDescriptors();
                RequireProtocolFeature(VhostUserProtocolFeatures.Config, header.Request);
                GetConfig();
                replied = true;
                break;
            case VhostUserRequest.SetConfig:
                RequireNoDescriptors();
                RequireProtocolFeature(VhostUserProtocolFeatures.Config, header.Request);
                SetConfig();
                break;
            case VhostUserRequest.ResetDevice:
                RequireNoDescriptors();
                RequireProtocolFeature(VhostUserProtocolFeatures.ResetDevice, header.Request);
                VhostUserPayloads.RequireEmpty(_message);
                ResetDevice();
                break;
            case VhostUserRequest.GpuSetSocket when _device.DeviceType == VirtioDeviceType.Gpu:
                if (_message.DescriptorCount != 1)
                {
                    throw new VhostUserProtocolException($"{header.Request} carries {_message.DescriptorCount} descriptors, not 1.");
                }

                _gpuSocket?.Dispose();
                _gpuSocket = _message.TakeDescriptor(0);
                break;
            default:
                throw new VhostUserProtocolException($"Request {(uint)header.Request} ({header.Request}) is not supported by this back-end.");
        }

        if (!replied && header.NeedsReply && (_protocolFeatures & VhostUserProtocolFeatures.ReplyAck) != 0)
        {
            ReplyUInt64(0);
        }
    }

    private void SetFeatures(ulong features)
    {
        // QEMU's vhost-user-gpu front-end forwards VIRTIO_F_RING_RESET when its own virtio-pci transport negotiated
        // it with the guest, offered or not; queue resets then stay in QEMU, so the bit means nothing here.
        features &= ~(VirtioFeatures.RingReset & ~_offeredFeatures);
        if ((features & ~_offeredFeatures) != 0)
        {
            throw new VhostUserProtocolException($"SET_FEATURES acknowledges 0x{features & ~_offeredFeatures:x}, which was not offered.");
        }

        _ackedFeatures = features;
        if ((features & VhostUserProtocolFeatures.ProtocolFeaturesBit) == 0)
        {
            // Without protocol features, rings start enabled.
            foreach (VhostUserVring ring in _rings)
            {
                ring.Enabled = true;
            }

            TryActivate();
        }
    }

    private void SetProtocolFeatures(ulong features)
    {
        if ((features & ~VhostUserProtocolFeatures.Supported) != 0)
        {
            throw new VhostUserProtocolException($"SET_PROTOCOL_FEATURES asks for 0x{features & ~VhostUserProtocolFeatures.Supported:x}, which was not offered.");
        }

        _protocolFeatures = features;
    }

    private void SetMemoryTable()
    {
        MemoryRegionDescription[] regions = VhostUserPayloads.ReadMemoryTable(_message);
        foreach (MemoryRegionDescription region in regions)
        {
            if (region.Size == 0 || region.UserAddress + region.Size < region.UserAddress || region.MmapOffset > long.MaxValue - region.Size)
            {
                throw new VhostUserProtocolException($"Memory region at guest 0x{region.GuestAddress:x} (user 0x{region.UserAddress:x}, 0x{region.Size:x} bytes, offset 0x{region.MmapOffset:x}) is malformed.");
            }
        }

        var files = new GuestMemoryFileRegion[regions.Length];
        for (int i = 0; i < regions.Length; i++)
        {
            files[i] = new GuestMemoryFileRegion(_message.TakeDescriptor(i), (long)regions[i].MmapOffset, regions[i].GuestAddress, regions[i].Size);
        }

        GuestMemory memory;
        try
        {
            memory = GuestMemory.FromFileRegions(files);
        }
        catch (ArgumentException exception)
        {
            throw new VhostUserProtocolException("SET_MEM_TABLE describes regions that cannot be mapped.", exception);
        }

        // The rings keep running across a new table (memory hot-plug): stop them, swap, start them again.
        bool wasActive = _queues is not null;
        Deactivate(saveBases: true);
        _memory?.Dispose();
        _memory = new VhostUserMemoryTable(memory, regions);
        if (wasActive)
        {
            TryActivate();
        }
    }

    private void SetVringNum(VringState state)
    {
        VhostUserVring ring = Ring(state.Index);
        if (state.Number == 0 || state.Number > ring.MaxSize || !uint.IsPow2(state.Number))
        {
            throw new VhostUserProtocolException($"Ring {state.Index} size {state.Number} is not a power of two up to {ring.MaxSize}.");
        }

        RequireStopped(ring, "SET_VRING_NUM");
        ring.Size = (ushort)state.Number;
    }

    private void SetVringAddress(VringAddress address)
    {
        VhostUserVring ring = Ring(address.Index);
        RequireStopped(ring, "SET_VRING_ADDR");
        ring.DescriptorUserAddress = address.DescriptorTable;
        ring.AvailableUserAddress = address.AvailableRing;
        ring.UsedUserAddress = address.UsedRing;
        ring.HasAddresses = true;
    }

    private void SetVringBase(VringState state)
    {
        VhostUserVring ring = Ring(state.Index);
        if (state.Number > ushort.MaxValue)
        {
            throw new VhostUserProtocolException($"Ring {state.Index} base {state.Number} does not fit a 16-bit index.");
        }

        RequireStopped(ring, "SET_VRING_BASE");
        ring.Base = (ushort)state.Number;
    }

    private void GetVringBase(VringState state)
    {
        VhostUserVring ring = Ring(state.Index);
        Deactivate(saveBases: true);
        ring.Started = false;
        SetKick(ring, null);
        Span<byte> payload = _reply.AsSpan(0, VringState.Length);
        new VringState(state.Index, ring.Base).Write(payload);
        Reply(payload);

        // Other rings go on (in practice the front-end stops them all, one after another).
        TryActivate();
    }

    private void SetVringDescriptor(VhostUserRequest request, ulong value)
    {
        if ((value & ~(VhostUserPayloads.VringIndexMask | VhostUserPayloads.InvalidDescriptorFlag)) != 0)
        {
            throw new VhostUserProtocolException($"{request} payload 0x{value:x} has reserved bits set.");
        }

        VhostUserVring ring = Ring((uint)(value & VhostUserPayloads.VringIndexMask));
        bool noDescriptor = (value & VhostUserPayloads.InvalidDescriptorFlag) != 0;
        int expected = noDescriptor ? 0 : 1;
        if (_message.DescriptorCount != expected)
        {
            throw new VhostUserProtocolException($"{request} for ring {ring.Index} carries {_message.DescriptorCount} descriptors, expected {expected}.");
        }

        SafeFileHandle? handle = noDescriptor ? null : _message.TakeDescriptor(0);
        switch (request)
        {
            case VhostUserRequest.SetVringKick:
                if (handle is null)
                {
                    throw new VhostUserProtocolException($"Ring {ring.Index}: polling mode (no kick descriptor) is not supported.");
                }

                SetKick(ring, handle);
                ring.Started = true;
                TryActivate();
                if (ring.Live)
                {
                    // Requests may already be waiting.
                    _worker.Notify(ring.Index);
                }

                break;
            case VhostUserRequest.SetVringCall:
                ring.Call.Replace(handle);
                break;
            default:
                ring.ReplaceError(handle);
                break;
        }
    }

    private void SetVringEnable(VringState state)
    {
        VhostUserVring ring = Ring(state.Index);
        if (state.Number > 1)
        {
            throw new VhostUserProtocolException($"SET_VRING_ENABLE for ring {state.Index} has value {state.Number}; 0 or 1 are allowed.");
        }

        bool enable = state.Number == 1;
        if (enable == ring.Enabled)
        {
            return;
        }

        if (!enable && ring.Live)
        {
            Deactivate(saveBases: true);
        }

        ring.Enabled = enable;
        TryActivate();
        if (enable && ring.Live)
        {
            _worker.Notify(ring.Index);
        }
    }

    private void GetConfig()
    {
        int size;
        try
        {
            (int offset, size, _) = VhostUserPayloads.ReadConfigHeader(_message, _device.ConfigSize);
            _message.Payload[..VhostUserPayloads.ConfigHeaderLength].CopyTo(_reply);
            _device.ReadConfig(offset, _reply.AsSpan(VhostUserPayloads.ConfigHeaderLength, size));
        }
        catch (VhostUserProtocolException exception)
        {
            // The protocol's error answer for GET_CONFIG is an empty payload.
            VhostUserLog.ProtocolError(_logger, exception, _device.Id);
            Reply([]);
            return;
        }

        Reply(_reply.AsSpan(0, VhostUserPayloads.ConfigHeaderLength + size));
    }

    private void SetConfig()
    {
        (int offset, int size, _) = VhostUserPayloads.ReadConfigHeader(_message, _device.ConfigSize);
        _device.WriteConfig(offset, _message.Payload.Slice(VhostUserPayloads.ConfigHeaderLength, size));
    }

    private void ResetDevice()
    {
        Deactivate(saveBases: false);
        foreach (VhostUserVring ring in _rings)
        {
            SetKick(ring, null);
            ring.Clear();
        }

        _ackedFeatures = 0;
        _pollDirty = true;
    }

    /// <summary>Activates the device once a ring can run, and enables every ring that can.</summary>
    private void TryActivate()
    {
        if (_memory is null || !_rings.Any(r => r.CanGoLive))
        {
            return;
        }

        bool activating = _queues is null;
        if (activating)
        {
            _queues = new SplitVirtqueue[_rings.Length];
            for (int i = 0; i < _rings.Length; i++)
            {
                _queues[i] = new SplitVirtqueue(_memory.Memory, i, _rings[i].MaxSize, _rings[i].Call);
            }
        }

        SplitVirtqueue[] queues = _queues!;
        foreach (VhostUserVring ring in _rings)
        {
            if (ring.Live || !ring.CanGoLive)
            {
                continue;
            }

            SplitVirtqueue queue = queues[ring.Index];
            if (!queue.TrySetSize(ring.Size))
            {
                throw new VhostUserProtocolException($"Ring {ring.Index} size {ring.Size} was refused by the queue.");
            }

            queue.DescriptorTableAddress = Translate(ring, ring.DescriptorUserAddress, "descriptor table");
            queue.AvailableRingAddress = Translate(ring, ring.AvailableUserAddress, "available ring");
            queue.UsedRingAddress = Translate(ring, ring.UsedUserAddress, "used ring");
            queue.NextAvailableIndex = ring.Base;
            queue.NextUsedIndex = ring.Base;
            queue.Enable(_ackedFeatures);
            ring.Live = true;
            _pollDirty = true;
        }

        if (activating)
        {
            var context = new VhostUserDeviceContext(_ackedFeatures & ~VhostUserProtocolFeatures.ProtocolFeaturesBit, _memory.Memory, queues, _worker);
            _worker.Activate(context);
            VhostUserLog.Activated(_logger, _device.Id, context.NegotiatedFeatures);
        }
    }

    /// <summary>Stops the device (synchronously, on its worker) and remembers where every live ring stopped.</summary>
    private void Deactivate(bool saveBases)
    {
        if (_queues is null)
        {
            return;
        }

        _worker.Reset();
        foreach (VhostUserVring ring in _rings)
        {
            if (ring.Live && saveBases)
            {
                ring.Base = _queues[ring.Index].NextAvailableIndex;
            }

            ring.Live = false;
            _queues[ring.Index].Reset();
        }

        _queues = null;
        _pollDirty = true;
        VhostUserLog.Deactivated(_logger, _device.Id);
    }

    private ulong Translate(VhostUserVring ring, ulong userAddress, string part)
    {
        if (!_memory!.TryTranslate(userAddress, out ulong guestAddress))
        {
            throw new VhostUserProtocolException($"Ring {ring.Index} {part} at user address 0x{userAddress:x} is outside the memory table.");
        }

        return guestAddress;
    }

    /// <summary>Installs a ring's kick eventfd (or none), handing it to the device when its queue thread waits on it.</summary>
    private void SetKick(VhostUserVring ring, SafeFileHandle? kick)
    {
        bool taken = false;
        if (_handoff is not null && (kick is not null || ring.KickTaken))
        {
            try
            {
                if (kick is null)
                {
                    _handoff.ReleaseNotifier(ring.Index);
                }
                else
                {
                    taken = _handoff.TryTakeNotifier(ring.Index, kick);
                }
            }
#pragma warning disable CA1031 // A plugin that throws is contained: its kick is polled here, as for any device.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                VhostUserLog.NotifierHandoffFailed(_logger, exception, _device.Id, ring.Index);
            }
        }

        // The old eventfd closes once the device's thread no longer holds it (it waits under a reference).
        ring.ReplaceKick(kick);
        ring.KickTaken = taken;
        _pollDirty = true;
    }

    private void DrainKick(int ringIndex)
    {
        SafeFileHandle? kick = _rings[ringIndex].Kick;
        if (kick is not null)
        {
            // The front-end's eventfds are non-blocking; a spurious wake-up just reads nothing.
            HostEventFd.TryRead(kick, out _);
            _worker.Notify(ringIndex);
        }
    }

    private void RebuildPollSetIfNeeded()
    {
        if (!_pollDirty)
        {
            return;
        }

        _pollHandles[0] = _channel.Handle;
        _pollCount = 1;
        foreach (VhostUserVring ring in _rings)
        {
            if (ring.Live && !ring.KickTaken && ring.Kick is { } kick)
            {
                _pollHandles[_pollCount] = kick;
                _pollRings[_pollCount] = ring.Index;
                _pollCount++;
            }
        }

        Array.Clear(_pollHandles, _pollCount, _pollHandles.Length - _pollCount);
        _pollDirty = false;
    }

    private VhostUserVring Ring(uint index)
    {
        if (index >= (uint)_rings.Length)
        {
            throw new VhostUserProtocolException($"{_message.Header.Request} names ring {index}; the device has {_rings.Length}.");
        }

        return _rings[index];
    }

    private static void RequireStopped(VhostUserVring ring, string request)
    {
        if (ring.Live)
        {
            throw new VhostUserProtocolException($"{request} for ring {ring.Index} while it runs.");
        }
    }

    private void RequireNoDescriptors()
    {
        if (_message.DescriptorCount != 0)
        {
            throw new VhostUserProtocolException($"{_message.Header.Request} carries {_message.DescriptorCount} unexpected descriptors.");
        }
    }

    private void RequireProtocolFeature(ulong feature, VhostUserRequest request)
    {
        if ((_protocolFeatures & feature) == 0)
        {
            throw new VhostUserProtocolException($"{request} needs a protocol feature that was not negotiated.");
        }
    }

    private void ReplyUInt64(ulong value)
    {
        Span<byte> payload = _reply.AsSpan(0, 8);
        BinaryPrimitives.WriteUInt64LittleEndian(payload, value);
        Reply(payload);
    }

    private void Reply(ReadOnlySpan<byte> payload)
    {
        var header = new VhostUserHeader(_message.Header.Request, VhostUserHeader.Version | VhostUserHeader.ReplyFlag, (uint)payload.Length);
        _channel.Send(header, payload);
    }

    /// <summary>With REPLY_ACK, a request that asked for an answer learns it failed before the connection closes.</summary>
    private void TryNack()
    {
        if (!_message.Header.NeedsReply || (_protocolFeatures & VhostUserProtocolFeatures.ReplyAck) == 0)
        {
            return;
        }

        try
        {
            ReplyUInt64(1);
        }
        catch (NativeCallException)
        {
            // The peer is gone.
        }
    }
}
