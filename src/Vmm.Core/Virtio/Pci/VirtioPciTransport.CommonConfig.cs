using System.Buffers.Binary;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Queues;

namespace Vmm.Core.Virtio.Pci;

/// <summary>virtio_pci_common_cfg: registers, feature negotiation, the status state machine and reset.</summary>
public sealed partial class VirtioPciTransport
{
    private const int DeviceFeatureSelect = 0x00;
    private const int DeviceFeature = 0x04;
    private const int DriverFeatureSelect = 0x08;
    private const int DriverFeature = 0x0C;
    private const int ConfigMsixVector = 0x10;
    private const int NumQueues = 0x12;
    private const int DeviceStatusRegister = 0x14;
    private const int ConfigGeneration = 0x15;
    private const int QueueSelect = 0x16;
    private const int QueueSize = 0x18;
    private const int QueueMsixVector = 0x1A;
    private const int QueueEnable = 0x1C;
    private const int QueueNotifyOff = 0x1E;
    private const int QueueDescLow = 0x20;
    private const int QueueDriverLow = 0x28;
    private const int QueueDeviceLow = 0x30;
    private const int CommonConfigSize = 0x38;

    // Field offsets and sizes in ascending order, so a wide write that covers two fields applies them in order.
    private static ReadOnlySpan<byte> FieldOffsets => [0x00, 0x04, 0x08, 0x0C, 0x10, 0x12, 0x14, 0x15, 0x16, 0x18, 0x1A, 0x1C, 0x1E, 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34];

    private static ReadOnlySpan<byte> FieldSizes => [4, 4, 4, 4, 2, 2, 1, 1, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4];

    private uint _deviceFeatureSelect;
    private uint _driverFeatureSelect;
    private ulong _driverFeatures;
    private byte _status;
    private ushort _queueSelect;

    /// <summary>The features the driver accepted (valid once FEATURES_OK stuck).</summary>
    public ulong NegotiatedFeatures
    {
        get
        {
            lock (_lock)
            {
                return _driverFeatures;
            }
        }
    }

    private void ReadCommonConfig(ulong offset, Span<byte> data)
    {
        data.Clear();
        if (offset >= CommonConfigSize)
        {
            return;
        }

        Span<byte> image = stackalloc byte[CommonConfigSize];
        lock (_lock)
        {
            BuildImageLocked(image);
        }

        int length = Math.Min(data.Length, CommonConfigSize - (int)offset);
        image.Slice((int)offset, length).CopyTo(data);
    }

    private void WriteCommonConfig(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset >= CommonConfigSize)
        {
            return;
        }

        int start = (int)offset;
        int end = Math.Min(CommonConfigSize, start + data.Length);
        Span<byte> image = stackalloc byte[CommonConfigSize];
        bool reset = false;
        lock (_lock)
        {
            BuildImageLocked(image);
            data[..(end - start)].CopyTo(image[start..]);
            for (int i = 0; i < FieldOffsets.Length; i++)
            {
                int field = FieldOffsets[i];
                int size = FieldSizes[i];
                if (field < end && start < field + size)
                {
                    uint value = size switch
                    {
                        1 => image[field],
                        2 => BinaryPrimitives.ReadUInt16LittleEndian(image[field..]),
                        _ => BinaryPrimitives.ReadUInt32LittleEndian(image[field..]),
                    };
                    reset |= WriteFieldLocked(field, value);
                }
            }
        }

        if (reset)
        {
            ResetDevice();
        }
    }

    private void BuildImageLocked(Span<byte> image)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(image[DeviceFeatureSelect..], _deviceFeatureSelect);
        uint offered = _deviceFeatureSelect switch
        {
            0 => (uint)OfferedFeatures,
            1 => (uint)(OfferedFeatures >> 32),
            _ => 0,
        };
        BinaryPrimitives.WriteUInt32LittleEndian(image[DeviceFeature..], offered);
        BinaryPrimitives.WriteUInt32LittleEndian(image[DriverFeatureSelect..], _driverFeatureSelect);
        uint driver = _driverFeatureSelect switch
        {
            0 => (uint)_driverFeatures,
            1 => (uint)(_driverFeatures >> 32),
            _ => 0,
        };
        BinaryPrimitives.WriteUInt32LittleEndian(image[DriverFeature..], driver);
        BinaryPrimitives.WriteUInt16LittleEndian(image[ConfigMsixVector..], _configVector);
        BinaryPrimitives.WriteUInt16LittleEndian(image[NumQueues..], (ushort)_queues.Length);
        image[DeviceStatusRegister] = ReadStatusLocked();
        image[ConfigGeneration] = (byte)Volatile.Read(ref _configGeneration);
        BinaryPrimitives.WriteUInt16LittleEndian(image[QueueSelect..], _queueSelect);
        if (_queueSelect < _queues.Length)
        {
            SplitVirtqueue queue = _queues[_queueSelect];
            BinaryPrimitives.WriteUInt16LittleEndian(image[QueueSize..], queue.Size);
            BinaryPrimitives.WriteUInt16LittleEndian(image[QueueMsixVector..], _queueVectors[_queueSelect]);
            BinaryPrimitives.WriteUInt16LittleEndian(image[QueueEnable..], queue.IsReady ? (ushort)1 : (ushort)0);
            BinaryPrimitives.WriteUInt16LittleEndian(image[QueueNotifyOff..], _queueSelect);
            BinaryPrimitives.WriteUInt64LittleEndian(image[QueueDescLow..], queue.DescriptorTableAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(image[QueueDriverLow..], queue.AvailableRingAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(image[QueueDeviceLow..], queue.UsedRingAddress);
        }
        else
        {
            // A queue that does not exist has size 0 and no vector.
            BinaryPrimitives.WriteUInt16LittleEndian(image[QueueMsixVector..], VirtioPciLayout.NoVector);
        }
    }

    private byte ReadStatusLocked()
        => (byte)(_status | (Volatile.Read(ref _needsReset) != 0 ? VirtioDeviceStatus.DeviceNeedsReset : 0));

    /// <summary>Applies one field write; returns true when the driver asked for a reset.</summary>
    private bool WriteFieldLocked(int field, uint value)
    {
        switch (field)
        {
            case DeviceFeatureSelect:
                _deviceFeatureSelect = value;
                break;
            case DriverFeatureSelect:
                _driverFeatureSelect = value;
                break;
            case DriverFeature:
                WriteDriverFeaturesLocked(value);
                break;
            case ConfigMsixVector:
                _configVector = AcceptVector((ushort)value);
                break;
            case DeviceStatusRegister:
                return WriteStatusLocked((byte)value);
            case QueueSelect:
                _queueSelect = (ushort)value;
                break;
            case QueueMsixVector when _queueSelect < _queues.Length:
                Volatile.Write(ref _queueVectors[_queueSelect], AcceptVector((ushort)value));
                break;
            case QueueSize or QueueEnable or QueueDescLow or QueueDescLow + 4 or QueueDriverLow or QueueDriverLow + 4 or QueueDeviceLow or QueueDeviceLow + 4:
                WriteQueueFieldLocked(field, value);
                break;
            default:
                // Read-only: device_feature, num_queues, config_generation, queue_notify_off.
                break;
        }

        return false;
    }

    private ushort AcceptVector(ushort vector) => vector < Msix.VectorCount ? vector : VirtioPciLayout.NoVector;

    private void WriteDriverFeaturesLocked(uint value)
    {
        // Features are fixed once FEATURES_OK is set (virtio 1.2 §3.1.1).
        if ((_status & VirtioDeviceStatus.FeaturesOk) != 0)
        {
            return;
        }

        _driverFeatures = _driverFeatureSelect switch
        {
            0 => (_driverFeatures & 0xFFFF_FFFF_0000_0000) | value,
            1 => (_driverFeatures & 0x0000_0000_FFFF_FFFF) | ((ulong)value << 32),
            _ => _driverFeatures,
        };
    }

    private void WriteQueueFieldLocked(int field, uint value)
    {
        // Queue configuration is only valid between FEATURES_OK and DRIVER_OK, on an existing, disabled queue.
        if (_queueSelect >= _queues.Length || (_status & VirtioDeviceStatus.DriverOk) != 0)
        {
            return;
        }

        SplitVirtqueue queue = _queues[_queueSelect];
        if (queue.IsReady)
        {
            return;
        }

        switch (field)
        {
            case QueueSize:
                queue.TrySetSize((ushort)value);
                break;
            case QueueEnable when value == 1:
                EnableQueueLocked(queue);
                break;
            case QueueDescLow:
                queue.DescriptorTableAddress = SetLow(queue.DescriptorTableAddress, value);
                break;
            case QueueDescLow + 4:
                queue.DescriptorTableAddress = SetHigh(queue.DescriptorTableAddress, value);
                break;
            case QueueDriverLow:
                queue.AvailableRingAddress = SetLow(queue.AvailableRingAddress, value);
                break;
            case QueueDriverLow + 4:
                queue.AvailableRingAddress = SetHigh(queue.AvailableRingAddress, value);
                break;
            case QueueDeviceLow:
                queue.UsedRingAddress = SetLow(queue.UsedRingAddress, value);
                break;
            case QueueDeviceLow + 4:
                queue.UsedRingAddress = SetHigh(queue.UsedRingAddress, value);
                break;
            default:
                break;
        }
    }

    private void EnableQueueLocked(SplitVirtqueue queue)
    {
        try
        {
            queue.Enable(_driverFeatures);
        }
        catch (VirtioProtocolException exception)
        {
            VirtioPciTransportLog.QueueRejected(_logger, exception, Device.Id, queue.Index);
            Volatile.Write(ref _needsReset, 1);
            RaiseConfigInterrupt();
        }
    }

    /// <summary>A status write; returns true for a reset (0), which runs outside the lock.</summary>
    private bool WriteStatusLocked(byte value)
    {
        if (value == 0)
        {
            return true;
        }

        value &= unchecked((byte)~VirtioDeviceStatus.DeviceNeedsReset);
        byte old = _status;
        if ((value & old) != old)
        {
            // The driver may only add bits (virtio 1.2 §2.1.2); anything else but a reset is ignored.
            VirtioPciTransportLog.StatusBitsCleared(_logger, Device.Id, old, value);
            return false;
        }

        byte added = (byte)(value & ~old);
        if ((added & VirtioDeviceStatus.FeaturesOk) != 0 && !FeaturesAcceptableLocked())
        {
            // The status bit does not stick: the driver reads it back and gives up.
            VirtioPciTransportLog.FeaturesRefused(_logger, Device.Id, _driverFeatures, OfferedFeatures);
            added &= unchecked((byte)~VirtioDeviceStatus.FeaturesOk);
        }

        if ((added & VirtioDeviceStatus.DriverOk) != 0 && ((old | added) & VirtioDeviceStatus.FeaturesOk) == 0)
        {
            added &= unchecked((byte)~VirtioDeviceStatus.DriverOk);
        }

        _status = (byte)(old | added);
        if ((added & VirtioDeviceStatus.DriverOk) != 0 && Volatile.Read(ref _needsReset) == 0)
        {
            Worker.Activate(new VirtioDeviceContext(this, _driverFeatures, _memory, _queues, _sharedMemory));
        }

        return false;
    }

    private bool FeaturesAcceptableLocked()
        => (_driverFeatures & ~OfferedFeatures) == 0 && (_driverFeatures & VirtioFeatures.Version1) != 0;

    /// <summary>Device reset: the device on its worker first, then every register, queue, vector and mapping.</summary>
    private void ResetDevice()
    {
        Worker.Reset();
        lock (_lock)
        {
            foreach (SplitVirtqueue queue in _queues)
            {
                queue.Reset();
            }

            Array.Fill(_queueVectors, VirtioPciLayout.NoVector);
            _configVector = VirtioPciLayout.NoVector;
            _deviceFeatureSelect = 0;
            _driverFeatureSelect = 0;
            _driverFeatures = 0;
            _queueSelect = 0;
            _status = 0;
            Volatile.Write(ref _needsReset, 0);
            Volatile.Write(ref _isr, 0);
            foreach (ISharedMemoryRegion region in _sharedMemory)
            {
                region.Unmap(0, region.Size);
            }
        }
    }

    private static ulong SetLow(ulong current, uint value) => (current & 0xFFFF_FFFF_0000_0000) | value;

    private static ulong SetHigh(ulong current, uint value) => (current & 0xFFFF_FFFF) | ((ulong)value << 32);
}
