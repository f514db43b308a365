using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Input;
using Vmm.Contracts.Virtio;
using Vmm.Fuzz.Harness;
using Vmm.Plugins.VirtioInput;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// virtio-input (a tablet, the richest config) through its public factory, the in-process transport and driver.
/// The input is a list of operations: a config-space write and read-back (select, subsel, anything),
/// a status-queue buffer of guest bytes (LED events and worse), an event-queue buffer of any size, host events
/// delivered to the device, an event-queue kick. Expected: the device drops or refuses what is malformed, or
/// fails on a typed protocol error. A finding: any other exception logged or thrown, or a status buffer that
/// never comes back.
/// </summary>
public sealed class VirtioInputTarget : FuzzTarget
{
    private static readonly TimeSpan s_requestLimit = TimeSpan.FromSeconds(5);

    private DeviceRig? _rig;
    private GuestBuffer _status;
    private GuestBuffer _events;

    /// <inheritdoc/>
    public override string Name => "virtio-input";

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        if (_rig is null || !_rig.CanReset)
        {
            _rig?.Dispose();
            _rig = new DeviceRig(Create, VirtioDeviceType.Input);
            _status = _rig.Machine.AllocateBuffer(4096);
            _events = _rig.Machine.AllocateBuffer(64 * 256);
        }

        DeviceRig rig = _rig;
        rig.Reinitialize();
        var target = (IInputTarget)rig.Transport.Device;
        int configSize = rig.Transport.Device.ConfigSize;
        Span<byte> config = stackalloc byte[configSize];
        int nextEventSlot = 0;
        var reader = new FuzzInput(input);
        while (!reader.IsEmpty && !rig.DeviceFailed)
        {
            switch (reader.U8() % 5)
            {
                case 0:
                    int offset = reader.U8() % configSize;
                    ReadOnlySpan<byte> value = reader.Bytes(Math.Min(1 + (reader.U8() % 4), configSize - offset));
                    rig.Driver.WriteDeviceConfig(offset, value);
                    rig.Driver.ReadDeviceConfig(0, config);
                    break;
                case 1:
                    ReadOnlySpan<byte> status = reader.Bytes(1 + (reader.U8() % 32));
                    rig.Machine.Memory.Write(_status.Address, status);
                    rig.SubmitAndWait(VirtioInputDevice.StatusQueue, [_status with { Length = (uint)status.Length }], [], indirect: false, s_requestLimit);
                    break;
                case 2:
                    uint length = 1 + (uint)(reader.U8() % 24);
                    if (rig.Driver.GetQueue(VirtioInputDevice.EventQueue).FreeDescriptors > 0)
                    {
                        var slot = new GuestBuffer(_events.Address + (ulong)(64 * (nextEventSlot++ % 256)), length);
                        rig.Driver.Submit(VirtioInputDevice.EventQueue, [], [slot]);
                    }

                    break;
                case 3:
                    int count = 1 + (reader.U8() % 8);
                    var events = new InputEvent[count];
                    for (int i = 0; i < count; i++)
                    {
                        events[i] = new InputEvent(reader.U16(), reader.U16(), (int)reader.U32());
                    }

                    target.Deliver(events);
                    break;
                default:
                    rig.Driver.Kick(VirtioInputDevice.EventQueue);
                    break;
            }

            while (rig.Driver.GetQueue(VirtioInputDevice.EventQueue).TryGetUsed(out _, out _))
            {
                // Reap what the device delivered so buffers can be posted again.
            }
        }

        rig.ThrowOnUnexpected();

        // Reset at the end as well: buffered events and held buffers belong to this input, not the next.
        rig.Driver.Reset();
        rig.ThrowOnUnexpected();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _rig?.Dispose();
        }
    }

    private static IVirtioDevice Create(Microsoft.Extensions.Logging.ILoggerFactory log)
    {
        IDeviceFactory factory = new VirtioInputDeviceFactory();
        var context = new DeviceCreateContext("input0", log, null, new ServiceCollection().BuildServiceProvider(), Path.GetTempPath());
        return (IVirtioDevice)factory.Create(context, new VirtioInputOptions { Kind = "tablet", Width = 1280, Height = 800, QueueBound = 16 });
    }
}
