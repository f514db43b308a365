using Vmm.Contracts.Virtio;

namespace Vmm.Fuzz.Harness;

/// <summary>
/// A device driven by a stream of guest requests: each record is <c>[queue u8][flags u8][readable u16][writable u16]</c>
/// and then that many readable bytes; the device gets one chain per record (readable bytes, then a writable
/// buffer of the asked size; flags bit 0 puts the chain in an indirect table) and the harness waits for it to come
/// back. The device is reset once per input (in process, a few register writes) so that an input replays the same.
/// </summary>
public abstract class RequestStreamTarget : FuzzTarget
{
    private const uint BufferSize = 64 * 1024;
    private static readonly TimeSpan s_requestLimit = TimeSpan.FromSeconds(5);

    private DeviceRig? _rig;
    private GuestBuffer _request;
    private GuestBuffer _reply;

    /// <summary>The rig in use (made on the first input).</summary>
    protected DeviceRig Rig => _rig ?? throw new InvalidOperationException("No input ran yet.");

    /// <summary>The guest buffer that receives the device's replies.</summary>
    protected GuestBuffer ReplyBuffer => _reply;

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        if (_rig is null || !_rig.CanReset)
        {
            _rig?.Dispose();
            _rig = CreateRig();
            _request = _rig.Machine.AllocateBuffer(BufferSize);
            _reply = _rig.Machine.AllocateBuffer(BufferSize);
        }

        BeforeInput();
        _rig.Reinitialize();
        AfterReset();
        _rig.ThrowOnUnexpected();
        var reader = new FuzzInput(input);
        int queues = _rig.Driver.QueueCount;
        while (!reader.IsEmpty)
        {
            int queue = reader.U8() % queues;
            byte flags = reader.U8();
            uint readableLength = Math.Min(reader.U16(), BufferSize);
            uint writableLength = Math.Min(reader.U16(), BufferSize);
            ReadOnlySpan<byte> payload = reader.Bytes((int)readableLength);
            _rig.Machine.Memory.Write(_request.Address, payload);
            _rig.Machine.Memory.GetSpan(_reply.Address, (int)BufferSize).Clear();
            GuestBuffer[] readable = payload.IsEmpty ? [] : [_request with { Length = (uint)payload.Length }];
            GuestBuffer[] writable = writableLength == 0 && payload.IsEmpty ? [_reply with { Length = 16 }]
                : writableLength == 0 ? [] : [_reply with { Length = writableLength }];
            bool indirect = (flags & 1) != 0;
            if (_rig.Driver.GetQueue(queue).FreeDescriptors < (indirect ? 1 : readable.Length + writable.Length))
            {
                break; // parked requests hold the whole ring
            }

            bool returned = _rig.SubmitAndWait(queue, readable, writable, indirect, s_requestLimit, MayPark(queue, payload));
            AfterRequest(writableLength);
            if (!returned)
            {
                break;
            }
        }

        AfterBatch();
        _rig.ThrowOnUnexpected();

        // The device is reset here too, not only before the next input: what the reset tears down (contexts and
        // their threads, FUSE state) then belongs to this input, and the next one starts from the same state.
        _rig.Driver.Reset();
        _rig.ThrowOnUnexpected();
    }

    /// <summary>Makes the machine with the device under test.</summary>
    protected abstract DeviceRig CreateRig();

    /// <summary>Runs before the device is reset for a new input.</summary>
    protected virtual void BeforeInput()
    {
    }

    /// <summary>Runs after the device was reset and brought up again, before the first request.</summary>
    protected virtual void AfterReset()
    {
    }

    /// <summary>Whether the device may keep this request until later (a fenced command): not a hang.</summary>
    protected virtual bool MayPark(int queue, ReadOnlySpan<byte> request) => false;

    /// <summary>Runs after each request came back, was parked, or failed the device.</summary>
    protected virtual void AfterRequest(uint writableLength)
    {
    }

    /// <summary>Runs after the last request of an input.</summary>
    protected virtual void AfterBatch()
    {
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _rig?.Dispose();
        }
    }
}
